{{- define "pulsar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
app.kubernetes.io/name: pulsar
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{/* One Pulsar component: a Service and a StatefulSet. Call with (dict "ctx" $ "component" "broker" "ports" (list ...) "command" "..." "replicas" n "resources" map "persistent" bool). */}}
{{- define "pulsar.component" -}}
{{- $name := printf "%s-pulsar-%s" .ctx.Release.Name .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "pulsar.labels" . | nindent 4 }}
spec:
  {{- if .persistent }}
  clusterIP: None
  {{- end }}
  ports:
    {{- range .ports }}
    - name: {{ index . 0 }}
      port: {{ index . 1 }}
      protocol: TCP
    {{- end }}
  selector:
    app.kubernetes.io/instance: {{ .ctx.Release.Name }}
    app.kubernetes.io/component: {{ .component }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $name }}
  labels:
    {{- include "pulsar.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  serviceName: {{ $name }}
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .ctx.Release.Name }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: pulsar
        app.kubernetes.io/instance: {{ .ctx.Release.Name }}
        app.kubernetes.io/component: {{ .component }}
    spec:
      containers:
        - name: {{ .component }}
          image: "{{ .ctx.Values.image.repository }}:{{ .ctx.Values.image.tag }}"
          imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
          command: ["sh", "-c"]
          args: [{{ .command | quote }}]
          env:
            - name: PULSAR_PREFIX_zookeeperServers
              value: "{{ .ctx.Release.Name }}-pulsar-zookeeper:2181"
            - name: PULSAR_PREFIX_metadataStoreUrl
              value: "zk:{{ .ctx.Release.Name }}-pulsar-zookeeper:2181"
            - name: PULSAR_PREFIX_clusterName
              value: {{ .ctx.Release.Name | quote }}
          ports:
            {{- range .ports }}
            - name: {{ index . 0 }}
              containerPort: {{ index . 1 }}
              protocol: TCP
            {{- end }}
          {{- with .resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if .persistent }}
          volumeMounts:
            - name: data
              mountPath: /pulsar/data
          {{- end }}
  {{- if .persistent }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        {{- with .ctx.Values.persistence.storageClass }}
        storageClassName: {{ . | quote }}
        {{- end }}
        resources:
          requests:
            storage: {{ .ctx.Values.persistence.size }}
  {{- end }}
{{- end -}}
