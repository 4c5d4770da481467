{{/*
Name of every object of this slot: the release name when it already ends in "-<slot>",
else "<release>-<slot>". The Pulumi program and Prometheus rely on this rule.
*/}}
{{- define "apfa.fullname" -}}
{{- $suffix := printf "-%s" .Values.slot -}}
{{- if hasSuffix $suffix .Release.Name -}}
{{- .Release.Name | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s%s" (.Release.Name | trunc (int (sub 54 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}
{{- end -}}

{{/* The headless Service: one DNS A record per ready replica, for Prometheus DNS discovery. */}}
{{- define "apfa.headlessName" -}}
{{- printf "%s-headless" (include "apfa.fullname" .) -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "apfa.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
app.kubernetes.io/version: values.version, else the image tag (not a digest), else the chart's
appVersion; reduced to what a label value may hold.
*/}}
{{- define "apfa.version" -}}
{{- $version := .Values.version -}}
{{- if not $version -}}
{{- $ref := splitList "@" .Values.image | first -}}
{{- $lastPart := splitList "/" $ref | last -}}
{{- if contains ":" $lastPart -}}
{{- $version = splitList ":" $lastPart | last -}}
{{- else -}}
{{- $version = .Chart.AppVersion -}}
{{- end -}}
{{- end -}}
{{- regexReplaceAll "[^A-Za-z0-9._-]" $version "_" | trunc 63 | trimAll "-_." -}}
{{- end -}}

{{/* Labels that select this slot's pods. Immutable on the Deployment: never add changing values. */}}
{{- define "apfa.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
slot: {{ .Values.slot }}
{{- end -}}

{{/* Labels of every object: commonLabels first, the standard labels win over them. */}}
{{- define "apfa.labels" -}}
{{- $labels := dict
  "helm.sh/chart" (include "apfa.chart" .)
  "app.kubernetes.io/name" .Chart.Name
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/version" (include "apfa.version" .)
  "app.kubernetes.io/component" "api"
  "app.kubernetes.io/part-of" "apfa"
  "app.kubernetes.io/managed-by" .Release.Service
  "slot" .Values.slot -}}
{{- toYaml (merge $labels .Values.commonLabels) -}}
{{- end -}}

{{/*
Checks the schema cannot express: bounds that relate two values, and a release name that names
the other slot (apfa-blue installed with slot=green would read as the wrong slot).
*/}}
{{- define "apfa.validate" -}}
{{- if gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas (%d) must not exceed autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- range $other := list "blue" "green" -}}
{{- if and (ne $other $.Values.slot) (hasSuffix (printf "-%s" $other) $.Release.Name) -}}
{{- fail (printf "release %q names slot %s but values.slot is %s" $.Release.Name $other $.Values.slot) -}}
{{- end -}}
{{- end -}}
{{- if eq (int .Values.metricsPort) (int .Values.port) -}}
{{- fail (printf "metricsPort (%d) must differ from port: the metrics port is reachable only by Prometheus" (int .Values.metricsPort)) -}}
{{- end -}}
{{- if and (gt (int .Values.preStopSleepSeconds) 0) (ge (int .Values.preStopSleepSeconds) (int .Values.terminationGracePeriodSeconds)) -}}
{{- fail "preStopSleepSeconds must be shorter than terminationGracePeriodSeconds" -}}
{{- end -}}
{{- end -}}
