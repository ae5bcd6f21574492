{{/* Names. */}}
{{- define "milvus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "milvus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "milvus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels for an object of one component: call with (dict "ctx" $ "component" "proxy"). */}}
{{- define "milvus.labels" -}}
helm.sh/chart: {{ include "milvus.chart" .ctx }}
{{ include "milvus.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | trimPrefix "v" | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{- define "milvus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "milvus.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* "v2.6" for Milvus 2.6 and later (mixCoord, streamingNode), "v2.5" for 2.3-2.5. */}}
{{- define "milvus.architecture" -}}
{{- if .Values.architecture -}}
{{- .Values.architecture -}}
{{- else -}}
{{- $tag := .Values.image.tag | toString | trimPrefix "v" -}}
{{- if and (regexMatch "^[0-9]+\\.[0-9]+(\\.[0-9]+)?(-.*)?$" $tag) (semverCompare "<2.6.0-0" $tag) -}}
v2.5
{{- else -}}
v2.6
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The message queue / WAL. */}}
{{- define "milvus.messageQueue" -}}
{{- if .Values.messageQueue -}}
{{- .Values.messageQueue -}}
{{- else if or .Values.pulsar.enabled .Values.externalPulsar.enabled -}}
pulsar
{{- else if or .Values.kafka.enabled .Values.externalKafka.enabled -}}
kafka
{{- else if eq (include "milvus.architecture" .) "v2.6" -}}
woodpecker
{{- else if .Values.cluster.enabled -}}
{{- fail "Milvus before 2.6 in cluster mode needs Pulsar or Kafka: set pulsar.enabled, kafka.enabled, externalPulsar.enabled or externalKafka.enabled" -}}
{{- else -}}
rocksmq
{{- end -}}
{{- end -}}

{{- define "milvus.etcdEndpoints" -}}
{{- if .Values.externalEtcd.enabled -}}
{{- required "externalEtcd.endpoints is required when externalEtcd.enabled" (first .Values.externalEtcd.endpoints) | quote -}}
{{- range rest .Values.externalEtcd.endpoints }}, {{ . | quote }}{{ end -}}
{{- else -}}
"{{ .Release.Name }}-etcd:2379"
{{- end -}}
{{- end -}}

{{/* The Secret holding object storage credentials ("" when IAM is used). */}}
{{- define "milvus.storageSecret" -}}
{{- if and .Values.externalS3.enabled .Values.externalS3.useIAM -}}
{{- else if and .Values.externalS3.enabled .Values.externalS3.existingSecret -}}
{{- .Values.externalS3.existingSecret -}}
{{- else -}}
{{- include "milvus.fullname" . }}-storage
{{- end -}}
{{- end -}}

{{/* The probes of a component: its own settings over the chart-wide ones. */}}
{{- define "milvus.probes" -}}
{{- $live := mergeOverwrite (deepCopy .ctx.Values.livenessProbe) (.values.livenessProbe | default dict) -}}
{{- $ready := mergeOverwrite (deepCopy .ctx.Values.readinessProbe) (.values.readinessProbe | default dict) -}}
{{- if $live.enabled }}
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  initialDelaySeconds: {{ $live.initialDelaySeconds }}
  periodSeconds: {{ $live.periodSeconds }}
  timeoutSeconds: {{ $live.timeoutSeconds }}
  failureThreshold: {{ $live.failureThreshold }}
{{- end }}
{{- if $ready.enabled }}
readinessProbe:
  httpGet:
    path: /healthz
    port: metrics
  initialDelaySeconds: {{ $ready.initialDelaySeconds }}
  periodSeconds: {{ $ready.periodSeconds }}
  timeoutSeconds: {{ $ready.timeoutSeconds }}
  failureThreshold: {{ $ready.failureThreshold }}
{{- end }}
{{- end -}}

{{/* The Milvus container's environment: credentials from the Secret, then extra env. */}}
{{- define "milvus.env" -}}
{{- $secret := include "milvus.storageSecret" .ctx -}}
{{- if $secret }}
- name: MINIO_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: accesskey
- name: MINIO_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: secretkey
{{- end }}
{{- with concat (.ctx.Values.extraEnv | default list) (.values.extraEnv | default list) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
A Milvus Deployment: call with (dict "ctx" $ "component" "querynode" "role" "querynode" "values" .Values.queryNode).
*/}}
{{- define "milvus.deployment" -}}
{{- $ctx := .ctx -}}
{{- $v := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "milvus.fullname" $ctx }}-{{ .component }}
  labels:
    {{- include "milvus.labels" . | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  selector:
    matchLabels:
      {{- include "milvus.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "milvus.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $ctx.Template.BasePath "/configmap.yaml") $ctx | sha256sum }}
        {{- with $ctx.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $ctx.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $ctx.Values.serviceAccount.create }}
      serviceAccountName: {{ default (include "milvus.fullname" $ctx) $ctx.Values.serviceAccount.name }}
      {{- else if $ctx.Values.serviceAccount.name }}
      serviceAccountName: {{ $ctx.Values.serviceAccount.name }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: "{{ $ctx.Values.image.repository }}:{{ $ctx.Values.image.tag }}"
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          args: ["milvus", "run", {{ .role | quote }}]
          ports:
            {{- if or (eq .role "proxy") (eq .role "standalone") }}
            - name: milvus
              containerPort: 19530
              protocol: TCP
            {{- end }}
            - name: metrics
              containerPort: 9091
              protocol: TCP
          {{- include "milvus.probes" . | indent 10 }}
          {{- with (include "milvus.env" .) }}
          env:
            {{- . | indent 12 }}
          {{- end }}
          {{- with $v.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: milvus-config
              mountPath: /milvus/configs/milvus.yaml
              subPath: milvus.yaml
              readOnly: true
            {{- range $file, $_ := $ctx.Values.extraConfigFiles }}
            - name: milvus-config
              mountPath: /milvus/configs/{{ $file }}
              subPath: {{ $file }}
              readOnly: true
            {{- end }}
            {{- if eq .role "standalone" }}
            - name: data
              mountPath: {{ $v.persistence.mountPath }}
            {{- end }}
      {{- with (default $ctx.Values.nodeSelector $v.nodeSelector) }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $ctx.Values.affinity $v.affinity) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $ctx.Values.tolerations $v.tolerations) }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumes:
        - name: milvus-config
          configMap:
            name: {{ include "milvus.fullname" $ctx }}
        {{- if eq .role "standalone" }}
        - name: data
          {{- if $v.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-data" (include "milvus.fullname" $ctx)) $v.persistence.existingClaim }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- end }}
{{- end -}}
