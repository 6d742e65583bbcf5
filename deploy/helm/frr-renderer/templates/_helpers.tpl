{{/* The release's full name: the release name when it holds the chart's name, else both. */}}
{{- define "frr-renderer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "frr-renderer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "frr-renderer.labels" -}}
{{ include "frr-renderer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "frr-renderer.serviceAccountName" -}}
{{- default (include "frr-renderer.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "frr-renderer.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "frr-renderer.frrImage" -}}
{{- printf "%s:%s" .Values.frr.image.repository (default .Chart.AppVersion .Values.frr.image.tag) -}}
{{- end -}}

{{- define "frr-renderer.secretsNamespace" -}}
{{- required "bgpControlPlane.secretsNamespace.name is required" .Values.bgpControlPlane.secretsNamespace.name -}}
{{- end -}}
