{{/*
Chart name, truncated to 63 characters (the DNS label limit of Kubernetes names).
*/}}
{{- define "flask-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name, plus the chart name unless the release name already contains it,
so the default release "flask-service" gives resources named "flask-service".
*/}}
{{- define "flask-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value: name-version, "+" is not allowed in label values.
*/}}
{{- define "flask-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "flask-service.labels" -}}
helm.sh/chart: {{ include "flask-service.chart" . }}
{{ include "flask-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: immutable in a Deployment, so they never include versions.
*/}}
{{- define "flask-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flask-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "flask-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flask-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository@digest when a digest is set (a digest names exactly one image,
so it wins over the tag), else repository:tag with the tag defaulting to the chart appVersion.
*/}}
{{- define "flask-service.image" -}}
{{- if eq .Values.image.tag "latest" }}
{{- fail "image.tag: \"latest\" is refused; a moving tag makes rollouts unreproducible (set a version or image.digest)" }}
{{- end }}
{{- if and .Values.image.digest .Values.image.tag }}
{{- /* Both: the digest decides what runs, and the tag stays readable (Skaffold's build reference is
repo:tag@digest, and its file sync finds the pods by that reference). */}}
{{- printf "%s:%s@%s" .Values.image.repository .Values.image.tag .Values.image.digest }}
{{- else if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Lowest number of replicas the release runs with (the HPA minimum when autoscaling).
*/}}
{{- define "flask-service.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- .Values.autoscaling.minReplicas }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}

{{/*
The file the front leaves behind when it exits, on the /tmp emptyDir both containers mount.
*/}}
{{- define "flask-service.frontExitedFile" -}}
/tmp/front.exited
{{- end }}

{{/*
Seconds gunicorn's preStop hook may take: with the front, longer by the front's drain, so that gunicorn
serves until the front has answered its last request and exited.
*/}}
{{- define "flask-service.appPreStopSeconds" -}}
{{- add .Values.preStopSleepSeconds (ternary .Values.front.drainSeconds 0 .Values.front.enabled) }}
{{- end }}

{{/*
The preStop sleep of the container that faces clients (the front, or gunicorn without it): it keeps
accepting while Service endpoints and proxies drop this pod, and then SIGTERM drains it. The sleep action
needs no shell or sleep binary in the image. Empty when preStopSleepSeconds is 0.
*/}}
{{- define "flask-service.preStopSleep" -}}
{{- if gt (int .Values.preStopSleepSeconds) 0 -}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .Values.preStopSleepSeconds }}
{{- end }}
{{- end }}

{{/*
A probe's timings (probes.startup, .liveness or .readiness): both containers probe with the same ones.
*/}}
{{- define "flask-service.probeTimings" -}}
periodSeconds: {{ .periodSeconds }}
failureThreshold: {{ .failureThreshold }}
timeoutSeconds: {{ .timeoutSeconds }}
{{- end }}

{{/*
The name of gunicorn's container port: "http" (5000) when gunicorn faces clients itself, "upstream" behind
the front.
*/}}
{{- define "flask-service.appPortName" -}}
{{- ternary "upstream" "http" .Values.front.enabled }}
{{- end }}

{{/*
Termination grace period: it must cover the preStop sleep, the in-app drain delay and
gunicorn's graceful timeout, else the kubelet kills requests that are still being served.
*/}}
{{- define "flask-service.terminationGracePeriodSeconds" -}}
{{- $needed := add (include "flask-service.appPreStopSeconds" .) .Values.config.shutdownDelay .Values.config.gracefulTimeout }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $needed 5 }}
{{- else if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be larger than preStopSleepSeconds + front.drainSeconds (with the front) + config.shutdownDelay + config.gracefulTimeout (%v)" .Values.terminationGracePeriodSeconds $needed) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
"true" when a PodDisruptionBudget cannot block a drain: maxUnavailable admits at least one
eviction; minAvailable must leave at least one pod of the lowest replica count evictable
(percentages round up, as the disruption controller does).
*/}}
{{- define "flask-service.pdbAllowsEviction" -}}
{{- $pdb := .Values.podDisruptionBudget }}
{{- $replicas := int (include "flask-service.minReplicas" .) }}
{{- if not (kindIs "invalid" $pdb.maxUnavailable) }}
{{- $max := toString $pdb.maxUnavailable }}
{{- if and (ne $max "0") (ne $max "0%") }}true{{ end }}
{{- else if not (kindIs "invalid" $pdb.minAvailable) }}
{{- $min := toString $pdb.minAvailable }}
{{- $minPods := 0 }}
{{- if hasSuffix "%" $min }}
{{- $minPods = div (add (mul (int (trimSuffix "%" $min)) $replicas) 99) 100 }}
{{- else }}
{{- $minPods = int $min }}
{{- end }}
{{- if lt (int $minPods) $replicas }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Labels of the `helm test` pod: different from the selector labels, so the Service never sends
traffic to it and the NetworkPolicy can admit it by name.
*/}}
{{- define "flask-service.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "flask-service.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{/*
The labels of this release's series as its ServiceMonitor scrapes them (job = the Service name): the
SLO rules select and record by them.
*/}}
{{- define "flask-service.sloLabels" -}}
namespace: {{ .Release.Namespace | quote }}
job: {{ include "flask-service.fullname" . | quote }}
{{- end }}
