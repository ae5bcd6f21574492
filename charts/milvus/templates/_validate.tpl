{{/*
Refuses values that cannot make a working Milvus, and the upstream chart's keys this chart does
not honour, with a message naming what to set instead. Included by configmap.yaml, which every
render has.
*/}}
{{- define "milvus.validate" -}}
{{- $v := .Values -}}
{{- $arch := include "milvus.architecture" . -}}
{{- $mq := include "milvus.messageQueue" . -}}
{{- /* Metadata and object storage: exactly one of each. */ -}}
{{- if and $v.etcd.enabled $v.externalEtcd.enabled -}}
{{- fail "etcd.enabled and externalEtcd.enabled are both on: Milvus uses one etcd; turn one off" -}}
{{- else if not (or $v.etcd.enabled $v.externalEtcd.enabled) -}}
{{- fail "no etcd: Milvus keeps its metadata in etcd; set etcd.enabled=true (bundled) or externalEtcd.enabled=true with externalEtcd.endpoints" -}}
{{- end -}}
{{- if and $v.minio.enabled $v.externalS3.enabled -}}
{{- fail "minio.enabled and externalS3.enabled are both on: Milvus uses one object storage; turn one off" -}}
{{- else if not (or $v.minio.enabled $v.externalS3.enabled) -}}
{{- fail "no object storage: set minio.enabled=true (bundled) or externalS3.enabled=true" -}}
{{- end -}}
{{- /* The message queue. */ -}}
{{- if $v.pulsar.enabled -}}
{{- fail "pulsar.enabled: this chart bundles no Pulsar (README.md, \"Message queue\"); run Pulsar yourself (for example the Apache Pulsar Helm chart) and set externalPulsar.enabled=true with externalPulsar.host, or use kafka.enabled=true" -}}
{{- end -}}
{{- if (index $v "pulsarv3" | default dict).enabled -}}
{{- fail "pulsarv3.enabled is the upstream chart's bundled Pulsar, which this chart does not bundle: set externalPulsar.enabled=true with externalPulsar.host, or kafka.enabled=true" -}}
{{- end -}}
{{- $queues := list -}}
{{- if $v.externalPulsar.enabled }}{{ $queues = append $queues "externalPulsar" }}{{ end -}}
{{- if $v.kafka.enabled }}{{ $queues = append $queues "kafka" }}{{ end -}}
{{- if $v.externalKafka.enabled }}{{ $queues = append $queues "externalKafka" }}{{ end -}}
{{- if gt (len $queues) 1 -}}
{{- fail (printf "%s: more than one message queue is on; Milvus uses one, keep one of them" (join " and " $queues)) -}}
{{- end -}}
{{- if not (has $mq (list "woodpecker" "rocksmq" "pulsar" "kafka")) -}}
{{- fail (printf "messageQueue %q: use woodpecker, rocksmq, pulsar or kafka" $mq) -}}
{{- end -}}
{{- if and (eq $mq "pulsar") (not $v.externalPulsar.enabled) -}}
{{- fail "messageQueue is pulsar but externalPulsar.enabled is off: set externalPulsar.enabled=true and externalPulsar.host" -}}
{{- end -}}
{{- if and (eq $mq "kafka") (not (or $v.kafka.enabled $v.externalKafka.enabled)) -}}
{{- fail "messageQueue is kafka but neither kafka.enabled nor externalKafka.enabled is on" -}}
{{- end -}}
{{- if and (has $mq (list "woodpecker" "rocksmq")) (gt (len $queues) 0) -}}
{{- fail (printf "messageQueue is %s but %s is on: drop one" $mq (first $queues)) -}}
{{- end -}}
{{- if and (eq $mq "woodpecker") (eq $arch "v2.5") -}}
{{- fail (printf "messageQueue woodpecker needs Milvus 2.6 or later (image.tag %s): use rocksmq (standalone), kafka or externalPulsar" (include "milvus.imageTag" .)) -}}
{{- end -}}
{{- if and (eq $mq "rocksmq") $v.cluster.enabled -}}
{{- fail "messageQueue rocksmq works in standalone mode only: in cluster mode use woodpecker (2.6), kafka or externalPulsar" -}}
{{- end -}}
{{- /* One active session per coordinator, one writer of the standalone volume. */ -}}
{{- if and (not $v.cluster.enabled) (gt (int $v.standalone.replicas) 1) -}}
{{- fail (printf "standalone.replicas is %v: standalone Milvus runs one pod (it holds a ReadWriteOnce volume and the coordinator session); use cluster.enabled=true to scale" $v.standalone.replicas) -}}
{{- end -}}
{{- range splitList " " (include "milvus.components" .) -}}
{{- $name := first (splitList ":" .) -}}
{{- $key := last (splitList ":" .) -}}
{{- $c := index $v $key -}}
{{- if and (include "milvus.isSingleton" $name) (ne $name "standalone") (gt (int $c.replicas) 1) (not (dig "activeStandby" "enabled" false $c)) -}}
{{- fail (printf "%s.replicas is %v: Milvus allows one active %s; set %s.activeStandby.enabled=true for standby replicas, or replicas: 1" $key $c.replicas $name $key) -}}
{{- end -}}
{{- if and (include "milvus.isSingleton" $name) (not (dig "activeStandby" "enabled" false $c)) $c.strategy -}}
{{- fail (printf "%s.strategy: %s rolls with Recreate (one active session); RollingUpdate parameters apply with %s.activeStandby.enabled=true" $key $name $key) -}}
{{- end -}}
{{- end -}}
{{- if and $v.proxy.tls.enabled (not $v.proxy.tls.secretName) -}}
{{- fail "proxy.tls.enabled needs proxy.tls.secretName: a kubernetes.io/tls Secret (keys tls.crt and tls.key)" -}}
{{- end -}}
{{- if and $v.authorization.enabled (not $v.authorization.rootPasswordSecret.name) -}}
{{- fail "authorization.enabled needs authorization.rootPasswordSecret.name: without it root keeps Milvus's well-known default password" -}}
{{- end -}}
{{- /* The upstream chart's keys without an equivalent here. */ -}}
{{- if $v.customConfigMap -}}
{{- fail "customConfigMap (upstream chart) is not supported: put Milvus settings under config (merged into user.yaml) or extraConfigFiles" -}}
{{- end -}}
{{- if (index $v "woodpecker" | default dict).enabled -}}
{{- fail "woodpecker.enabled (upstream chart's Woodpecker service) is not supported: this chart runs Woodpecker embedded (messageQueue woodpecker)" -}}
{{- end -}}
{{- if dig "persistence" "enabled" false $v.log -}}
{{- fail "log.persistence.enabled (upstream chart) is not supported: Milvus logs to stdout here; collect the container logs" -}}
{{- end -}}
{{- range $key := list "tei" "cdc" -}}
{{- if (index $v $key | default dict).enabled -}}
{{- fail (printf "%s.enabled (upstream chart) is not supported by this chart: deploy it separately" $key) -}}
{{- end -}}
{{- end -}}
{{- if $v.replicaResourceGroups -}}
{{- fail "replicaResourceGroups (upstream chart) is not supported: run one release per resource group or set queryNode.nodeSelector" -}}
{{- end -}}
{{- if and (hasKey $v "streaming") (not (dig "enabled" true (index $v "streaming" | default dict))) (eq $arch "v2.6") -}}
{{- fail "streaming.enabled=false (upstream chart) means the 2.5 architecture here: set image.tag to a 2.5 version or architecture=v2.5" -}}
{{- end -}}
{{- end -}}
