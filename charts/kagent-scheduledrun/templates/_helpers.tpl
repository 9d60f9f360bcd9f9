{{/*
Names and labels shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "kagent-scheduledrun.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, else the release name (plus the chart name unless the release
name contains it). Cut to 55 characters so "<fullname>-runner" still fits 63.
*/}}
{{- define "kagent-scheduledrun.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "kagent-scheduledrun.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "kagent-scheduledrun.labels" -}}
helm.sh/chart: {{ include "kagent-scheduledrun.chart" . }}
app.kubernetes.io/name: {{ include "kagent-scheduledrun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kagent
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the operator pod (Deployment selector, Service selector). */}}
{{- define "kagent-scheduledrun.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kagent-scheduledrun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "kagent-scheduledrun.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kagent-scheduledrun.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The runner ClusterRole, bound per namespace by the operator. */}}
{{- define "kagent-scheduledrun.runnerClusterRole" -}}
{{- printf "%s-runner" (include "kagent-scheduledrun.fullname" .) }}
{{- end }}

{{/* The operator ClusterRole for namespaced resources, and the one for cluster-scoped ones. */}}
{{- define "kagent-scheduledrun.operatorClusterRole" -}}
{{- include "kagent-scheduledrun.fullname" . }}
{{- end }}
{{- define "kagent-scheduledrun.clusterScopeClusterRole" -}}
{{- printf "%s-cluster" (include "kagent-scheduledrun.fullname" .) }}
{{- end }}

{{/* Images: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "kagent-scheduledrun.operatorImage" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- define "kagent-scheduledrun.runnerImage" -}}
{{- printf "%s:%s" .Values.runner.image.repository (default .Chart.AppVersion .Values.runner.image.tag) }}
{{- end }}

{{/* The REST API server: its name, its pod's selector labels, its ServiceAccount, its image. */}}
{{- define "kagent-scheduledrun.serverName" -}}
{{- printf "%s-server" (include "kagent-scheduledrun.fullname" .) }}
{{- end }}
{{- define "kagent-scheduledrun.serverSelectorLabels" -}}
app.kubernetes.io/name: {{ include "kagent-scheduledrun.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}
{{- define "kagent-scheduledrun.serverServiceAccountName" -}}
{{- if .Values.server.serviceAccount.create }}
{{- default (include "kagent-scheduledrun.serverName" .) .Values.server.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.server.serviceAccount.name }}
{{- end }}
{{- end }}
{{- define "kagent-scheduledrun.serverImage" -}}
{{- printf "%s:%s" (default .Values.image.repository .Values.server.image.repository) (default (default .Chart.AppVersion .Values.image.tag) .Values.server.image.tag) }}
{{- end }}
