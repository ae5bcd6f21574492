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

{{/* The image, with the upstream chart's image.all.* over image.*. */}}
{{- define "milvus.imageValues" -}}
{{- $image := omit .Values.image "all" -}}
{{- with .Values.image.all }}{{ $image = mergeOverwrite $image (deepCopy .) }}{{ end -}}
{{- toYaml $image -}}
{{- end -}}

{{/* The image tag as a string (a numeric tag given with --set stays usable in labels). */}}
{{- define "milvus.imageTag" -}}
{{- (include "milvus.imageValues" . | fromYaml).tag | toString -}}
{{- end -}}

{{/* Labels for an object of one component: call with (dict "ctx" $ "component" "proxy"). */}}
{{- define "milvus.labels" -}}
helm.sh/chart: {{ include "milvus.chart" .ctx }}
{{ include "milvus.selectorLabels" . }}
app.kubernetes.io/version: {{ include "milvus.imageTag" .ctx | trimPrefix "v" | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: milvus
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
{{- $tag := include "milvus.imageTag" . | trimPrefix "v" -}}
{{- if and (regexMatch "^[0-9]+\\.[0-9]+(\\.[0-9]+)?(-.*)?$" $tag) (semverCompare "<2.6.0-0" $tag) -}}
v2.5
{{- else -}}
v2.6
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The Milvus components of this release, as "name:valuesKey" words: the standalone pod, or the
cluster components of the architecture that are enabled.
*/}}
{{- define "milvus.components" -}}
{{- if not .Values.cluster.enabled -}}
standalone:standalone
{{- else -}}
{{- $all := list "proxy:proxy" "mixcoord:mixCoordinator" "querynode:queryNode" "datanode:dataNode" "streamingnode:streamingNode" -}}
{{- if eq (include "milvus.architecture" .) "v2.5" -}}
{{- $all = list "proxy:proxy" "rootcoord:rootCoordinator" "querycoord:queryCoordinator" "datacoord:dataCoordinator" "indexcoord:indexCoordinator" "querynode:queryNode" "datanode:dataNode" "indexnode:indexNode" -}}
{{- end -}}
{{- $on := list -}}
{{- range $all -}}
{{- if (index $.Values (index (splitList ":" .) 1)).enabled }}{{ $on = append $on . }}{{ end -}}
{{- end -}}
{{- join " " $on -}}
{{- end -}}
{{- end -}}

{{/* Components that hold Milvus's one coordinator session (or, standalone, a ReadWriteOnce volume). */}}
{{- define "milvus.isSingleton" -}}
{{- if has . (list "standalone" "mixcoord" "rootcoord" "querycoord" "datacoord" "indexcoord") }}true{{ end -}}
{{- end -}}

{{/*
The message queue a release installed earlier already uses ("" on install and offline): the
annotation on its ConfigMap, or, for releases of this chart's earlier versions, which wrote no
annotation, mq.type in the milvus.yaml they generated.
*/}}
{{- define "milvus.installedMessageQueue" -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace (include "milvus.fullname" .) -}}
{{- if $cm -}}
{{- $annotated := get ($cm.metadata.annotations | default dict) "milvus.io/message-queue" -}}
{{- if $annotated -}}
{{- $annotated -}}
{{- else -}}
{{- $old := get ($cm.data | default dict) "milvus.yaml" | default "" | fromYaml -}}
{{- dig "mq" "type" "" $old -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The message queue / WAL. */}}
{{- define "milvus.messageQueue" -}}
{{- $explicit := .Values.messageQueue | default (dig "messageQueue" "" (.Values.standalone | default dict)) -}}
{{- $installed := include "milvus.installedMessageQueue" . -}}
{{- if $explicit -}}
{{- $explicit -}}
{{- else if .Values.externalPulsar.enabled -}}
pulsar
{{- else if or .Values.kafka.enabled .Values.externalKafka.enabled -}}
kafka
{{- else if has $installed (list "pulsar" "kafka") -}}
{{- fail (printf "this release uses %s as its message queue (annotation milvus.io/message-queue on ConfigMap %s) but no %s is configured: configure it again, or set messageQueue to switch knowingly (Milvus does not migrate the queue)" $installed (include "milvus.fullname" .) $installed) -}}
{{- else if $installed -}}
{{- $installed -}}
{{- else if eq (include "milvus.architecture" .) "v2.6" -}}
woodpecker
{{- else if .Values.cluster.enabled -}}
{{- fail "Milvus before 2.6 in cluster mode needs Pulsar or Kafka: set kafka.enabled, externalPulsar.enabled or externalKafka.enabled" -}}
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

{{/*
A checksum of the credentials the pods read from Secrets: the chart's own Secret as rendered,
and the data of existing Secrets as the cluster has them (lookup; empty offline), so that a
change of either rolls the pods like a configuration change does.
*/}}
{{- define "milvus.credentialsChecksum" -}}
{{- $parts := list (include (print .Template.BasePath "/secret.yaml") .) -}}
{{- $existing := list -}}
{{- if and .Values.externalS3.enabled .Values.externalS3.existingSecret (not .Values.externalS3.useIAM) }}{{ $existing = append $existing .Values.externalS3.existingSecret }}{{ end -}}
{{- if and .Values.authorization.enabled .Values.authorization.rootPasswordSecret.name }}{{ $existing = append $existing .Values.authorization.rootPasswordSecret.name }}{{ end -}}
{{- range $existing -}}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace . -}}
{{- $parts = append $parts (printf "%s=%s" . (toJson (dig "data" dict ($secret | default dict)))) -}}
{{- end -}}
{{- join "\n" $parts | sha256sum -}}
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

{{/* The Milvus container's environment: credentials from Secrets, then extra env. */}}
{{- define "milvus.env" -}}
{{- $secret := include "milvus.storageSecret" .ctx -}}
{{- $auth := .ctx.Values.authorization -}}
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
{{- if and $auth.enabled $auth.rootPasswordSecret.name }}
- name: COMMON_SECURITY_DEFAULTROOTPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.rootPasswordSecret.name }}
      key: {{ $auth.rootPasswordSecret.key | default "password" }}
{{- end }}
{{- with concat (.ctx.Values.extraEnv | default list) (.values.extraEnv | default list) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A security context: the chart-wide one with a component's own merged over it. */}}
{{- define "milvus.securityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy (.base | default dict)) (deepCopy (.own | default dict))) -}}
{{- end -}}

{{/* The storage class of a volume: its own, else global.storageClass. */}}
{{- define "milvus.storageClass" -}}
{{- $class := .own | default ((.ctx.Values.global | default dict).storageClass | default "") -}}
{{- with $class -}}
storageClassName: {{ . | quote }}
{{- end -}}
{{- end -}}

{{/*
The local-disk volume of a query/index node (localStorage.path). Generic ephemeral volumes
exist from Kubernetes 1.21 (beta, on by default); before, the disk is an emptyDir and NOTES.txt
says the storage class is not used.
*/}}
{{- define "milvus.diskEphemeral" -}}
{{- $disk := .values.disk | default dict -}}
{{- $class := $disk.storageClass | default ((.ctx.Values.global | default dict).storageClass | default "") -}}
{{- if and $disk.enabled $class $disk.size }}{{ $class }}{{ end -}}
{{- end -}}

{{- define "milvus.diskVolume" -}}
{{- $disk := .values.disk | default dict -}}
{{- $class := include "milvus.diskEphemeral" . -}}
{{- if and $class (semverCompare ">=1.21-0" .ctx.Capabilities.KubeVersion.Version) }}
ephemeral:
  volumeClaimTemplate:
    metadata:
      labels:
        {{- include "milvus.selectorLabels" . | nindent 8 }}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: {{ $class | quote }}
      resources:
        requests:
          storage: {{ $disk.size }}
{{- else if and $disk.enabled $disk.size }}
emptyDir:
  sizeLimit: {{ $disk.size }}
{{- else }}
emptyDir: {}
{{- end }}
{{- end -}}

{{/*
A Milvus Deployment: call with (dict "ctx" $ "component" "querynode" "values" .Values.queryNode).
*/}}
{{- define "milvus.deployment" -}}
{{- $ctx := .ctx -}}
{{- $v := .values -}}
{{- $image := include "milvus.imageValues" $ctx | fromYaml -}}
{{- $singleton := include "milvus.isSingleton" .component -}}
{{- $standby := dig "activeStandby" "enabled" false $v -}}
{{- $serving := has .component (list "proxy" "standalone") -}}
{{- $fullname := include "milvus.fullname" $ctx -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}-{{ .component }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "milvus.labels" . | nindent 4 }}
  annotations:
    milvus.io/message-queue: {{ include "milvus.messageQueue" $ctx }}
spec:
  {{- if not (and (hasKey $v "hpa") $v.hpa.enabled) }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
  {{- if and $singleton (not $standby) }}
    # One coordinator session / a ReadWriteOnce volume: the old pod goes before the new one starts.
    type: Recreate
  {{- else }}
    type: RollingUpdate
    rollingUpdate:
      {{- toYaml (mergeOverwrite (dict "maxUnavailable" 0 "maxSurge" 1) (deepCopy ($v.strategy | default dict))) | nindent 6 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "milvus.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "milvus.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: milvus
      annotations:
        checksum/config: {{ include (print $ctx.Template.BasePath "/configmap.yaml") $ctx | sha256sum }}
        checksum/credentials: {{ include "milvus.credentialsChecksum" $ctx }}
        {{- with mergeOverwrite (deepCopy ($ctx.Values.podAnnotations | default dict)) ($v.podAnnotations | default dict) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $ctx.Values.serviceAccount.create }}
      serviceAccountName: {{ default $fullname $ctx.Values.serviceAccount.name }}
      {{- else if $ctx.Values.serviceAccount.name }}
      serviceAccountName: {{ $ctx.Values.serviceAccount.name }}
      {{- end }}
      automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountToken }}
      {{- with $v.runtimeClassName }}
      runtimeClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- include "milvus.securityContext" (dict "base" $ctx.Values.securityContext "own" $v.securityContext) | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: "{{ $image.repository }}:{{ $image.tag }}"
          imagePullPolicy: {{ $image.pullPolicy }}
          args: ["milvus", "run", {{ .component | quote }}]
          securityContext:
            {{- include "milvus.securityContext" (dict "base" $ctx.Values.containerSecurityContext "own" $v.containerSecurityContext) | nindent 12 }}
          ports:
            {{- if $serving }}
            - name: milvus
              containerPort: 19530
              protocol: TCP
            {{- end }}
            - name: metrics
              containerPort: 9091
              protocol: TCP
          {{- with (include "milvus.probes" . | trim) }}
          {{- . | nindent 10 }}
          {{- end }}
          {{- with (include "milvus.env" . | trim) }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          {{- with $v.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            - name: milvus-config
              mountPath: /milvus/configs/user.yaml
              subPath: user.yaml
              readOnly: true
            {{- range $file, $_ := omit $ctx.Values.extraConfigFiles "user.yaml" }}
            - name: milvus-config
              mountPath: /milvus/configs/{{ $file }}
              subPath: {{ $file }}
              readOnly: true
            {{- end }}
            - name: tmp
              mountPath: /tmp
            - name: run
              mountPath: /run/milvus
            {{- if eq .component "standalone" }}
            - name: data
              mountPath: {{ $v.persistence.mountPath }}
              {{- with ($v.persistence.persistentVolumeClaim | default dict).subPath }}
              subPath: {{ . }}
              {{- end }}
            {{- else if has .component (list "querynode" "indexnode") }}
            - name: disk
              mountPath: /var/lib/milvus/data
            {{- else }}
            - name: data
              mountPath: /var/lib/milvus
            {{- end }}
            {{- if and $serving $ctx.Values.proxy.tls.enabled }}
            - name: tls
              mountPath: /milvus/tls
              readOnly: true
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
      {{- with (default $ctx.Values.topologySpreadConstraints $v.topologySpreadConstraints) }}
      topologySpreadConstraints:
        {{- range . }}
        - {{ toYaml (mergeOverwrite (dict "labelSelector" (dict "matchLabels" (include "milvus.selectorLabels" $ | fromYaml))) (deepCopy .)) | nindent 10 | trim }}
        {{- end }}
      {{- end }}
      volumes:
        - name: milvus-config
          configMap:
            name: {{ $fullname }}
        - name: tmp
          emptyDir: {}
        - name: run
          emptyDir: {}
        {{- if eq .component "standalone" }}
        - name: data
          {{- if $v.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ include "milvus.standaloneClaim" $ctx }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- else if has .component (list "querynode" "indexnode") }}
        - name: disk
          {{- include "milvus.diskVolume" . | trim | nindent 10 }}
        {{- else }}
        - name: data
          emptyDir: {}
        {{- end }}
        {{- if and $serving $ctx.Values.proxy.tls.enabled }}
        - name: tls
          secret:
            secretName: {{ $ctx.Values.proxy.tls.secretName }}
        {{- end }}
{{- end -}}

{{/* The standalone data claim: an existing one (also upstream's persistentVolumeClaim.existingClaim) or the chart's. */}}
{{- define "milvus.standaloneClaim" -}}
{{- $p := .Values.standalone.persistence -}}
{{- $upstream := $p.persistentVolumeClaim | default dict -}}
{{- $p.existingClaim | default $upstream.existingClaim | default (printf "%s-data" (include "milvus.fullname" .)) -}}
{{- end -}}
