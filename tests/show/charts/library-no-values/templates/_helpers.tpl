{{- define "lib.name" -}}x{{- end -}}
