#!/usr/bin/env python3
"""Writes a large synthetic chart for engine benchmarks: N service templates, each a
Deployment, Service and ConfigMap built from shared `define`s through `include`, `toYaml`,
`range` over lists and maps, `tpl`, `default`, `printf` and string functions, with a
values.yaml giving every service its own settings.   scripts/gen-bench-chart.py DIR [N=300]
"""
import os, sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
os.makedirs(os.path.join(out, "templates"), exist_ok=True)
with open(os.path.join(out, "Chart.yaml"), "w") as f:
    f.write("apiVersion: v2\nname: bench\nversion: 1.0.0\nappVersion: \"2.6.0\"\n")
with open(os.path.join(out, "templates", "_helpers.tpl"), "w") as f:
    f.write('''{{- define "bench.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "bench.labels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- range $k, $v := .svc.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}
{{- define "bench.container" -}}
- name: {{ .name }}
  image: {{ printf "%s:%s" .svc.image.repository (.svc.image.tag | default .root.Chart.AppVersion) }}
  args:
  {{- range .svc.args }}
    - {{ . | quote }}
  {{- end }}
  env:
  {{- range $k, $v := .svc.env }}
    - name: {{ $k | upper | replace "-" "_" }}
      value: {{ tpl (toString $v) $.root | quote }}
  {{- end }}
  resources: {{- toYaml .svc.resources | nindent 4 }}
{{- end -}}
''')
services = {}
for i in range(n):
    name = "svc%03d" % i
    services[name] = i
    with open(os.path.join(out, "templates", name + ".yaml"), "w") as f:
        f.write('''{{- $ctx := dict "root" $ "name" "%(name)s" "svc" (index .Values.services "%(name)s") }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "bench.fullname" $ctx }}
  labels: {{- include "bench.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ $ctx.svc.replicas | default 1 }}
  selector:
    matchLabels: {{- include "bench.labels" $ctx | nindent 6 }}
  template:
    metadata:
      labels: {{- include "bench.labels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ toYaml $ctx.svc.config | sha256sum }}
    spec:
      containers: {{- include "bench.container" $ctx | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "bench.fullname" $ctx }}
  labels: {{- include "bench.labels" $ctx | nindent 4 }}
spec:
  ports:
  {{- range $p := $ctx.svc.ports }}
    - name: {{ $p.name }}
      port: {{ $p.port }}
      targetPort: {{ $p.port }}
  {{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "bench.fullname" $ctx }}-config
data:
  config.yaml: |
    {{- toYaml $ctx.svc.config | nindent 4 }}
''' % {"name": name})
with open(os.path.join(out, "values.yaml"), "w") as f:
    f.write("services:\n")
    for name, i in services.items():
        f.write('''  %(name)s:
    replicas: %(r)d
    image: {repository: example.com/%(name)s, tag: "1.%(i)d.0"}
    args: ["--port=80%(i)02d", "--verbose", "--name=%(name)s"]
    env: {LOG_LEVEL: info, SERVICE_NAME: "{{ .Release.Name }}-%(name)s", shard: "%(i)d"}
    labels: {tier: backend, team: team-%(t)d}
    ports: [{name: http, port: %(p)d}, {name: metrics, port: 9091}]
    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "1", memory: 1Gi}}
    config: {cache: {size: %(i)d, ttl: 30s}, peers: [a, b, c], enabled: true}
''' % {"name": name, "i": i, "r": i % 5 + 1, "t": i % 7, "p": 8000 + i})
