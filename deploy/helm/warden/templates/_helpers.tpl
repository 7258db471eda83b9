{{/* Names */}}
{{- define "warden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "warden.fullname" -}}
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

{{/* The decision Service is the fullname itself (Trino's URIs name it). */}}
{{- define "warden.decisionService" -}}
{{- include "warden.fullname" . -}}
{{- end -}}

{{- define "warden.adminService" -}}
{{- printf "%s-admin" (include "warden.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}

{{- define "warden.headlessService" -}}
{{- printf "%s-headless" (include "warden.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{- define "warden.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "warden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "warden.labels" -}}
helm.sh/chart: {{ include "warden.chart" . }}
{{ include "warden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: warden
{{- end -}}

{{- define "warden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "warden.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "warden.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret the WARDEN_* secrets come from. */}}
{{- define "warden.secretName" -}}
{{- default (include "warden.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "warden.tlsSecretName" -}}
{{- if .Values.tls.secretName -}}
{{- .Values.tls.secretName -}}
{{- else -}}
{{- printf "%s-tls" (include "warden.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "warden.clientCASecretName" -}}
{{- default (include "warden.tlsSecretName" .) .Values.tls.clientCA.secretName -}}
{{- end -}}

{{/* A StatefulSet when the audit spool must survive restarts, else a Deployment. */}}
{{- define "warden.kind" -}}
{{- if and .Values.database.enabled .Values.audit.spool.enabled .Values.audit.spool.persistent -}}
StatefulSet
{{- else -}}
Deployment
{{- end -}}
{{- end -}}

{{- define "warden.auditSpool" -}}
{{- if and .Values.database.enabled .Values.audit.spool.enabled -}}true{{- end -}}
{{- end -}}

{{- define "warden.scheme" -}}
{{- if .Values.tls.enabled -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/* Probes and metrics use the admin port: it never asks for a client certificate. */}}
{{- define "warden.probePort" -}}
{{- if .Values.admin.enabled -}}admin{{- else -}}decision{{- end -}}
{{- end -}}

{{- define "warden.metricsPort" -}}
{{- if and .Values.admin.enabled (eq .Values.serviceMonitor.port "admin") -}}admin{{- else -}}decision{{- end -}}
{{- end -}}

{{- define "warden.terminationGracePeriodSeconds" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add .Values.preStopSleepSeconds .Values.shutdown.drainDelaySeconds .Values.shutdown.timeoutSeconds 15 -}}
{{- end -}}
{{- end -}}

{{/* The chart-made Secret's data, also hashed into a pod annotation. */}}
{{- define "warden.secretData" -}}
{{- with .Values.secrets -}}
{{- if .databaseUrl }}
database-url: {{ .databaseUrl | b64enc | quote }}
{{- end }}
{{- if .openfgaApiToken }}
openfga-api-token: {{ .openfgaApiToken | b64enc | quote }}
{{- end }}
{{- if .scimTokens }}
scim-tokens: {{ join "," .scimTokens | b64enc | quote }}
{{- end }}
{{- if .webhooksEventsSecrets }}
webhooks-events-secrets: {{ join "," .webhooksEventsSecrets | b64enc | quote }}
{{- end }}
{{- if .webhooksKeycloakSecrets }}
webhooks-keycloak-secrets: {{ join "," .webhooksKeycloakSecrets | b64enc | quote }}
{{- end }}
{{- if .webhooksKeycloakClientSecret }}
webhooks-keycloak-client-secret: {{ .webhooksKeycloakClientSecret | b64enc | quote }}
{{- end }}
{{- if .auditTrinoEventsToken }}
audit-trino-events-token: {{ .auditTrinoEventsToken | b64enc | quote }}
{{- end }}
{{- if .auditOpaToken }}
audit-opa-token: {{ .auditOpaToken | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Checks across values that the schema cannot express, with clear messages. */}}
{{- define "warden.validate" -}}
{{- if and .Values.database.enabled (not .Values.secrets.existingSecret) (not .Values.secrets.databaseUrl) -}}
{{- fail "database.enabled needs the PostgreSQL URL: set secrets.databaseUrl, or secrets.existingSecret with a database-url key" -}}
{{- end -}}
{{- if and .Values.database.enabled (or .Values.policy.rulesJson .Values.policy.existingRulesConfigMap .Values.policy.rego .Values.policy.existingRegoConfigMap) -}}
{{- fail "policy.* is file mode; with database.enabled policy lives in PostgreSQL (warden policy push): unset policy.rulesJson, policy.rego and the existing ConfigMaps" -}}
{{- end -}}
{{- if and .Values.policy.rulesJson .Values.policy.existingRulesConfigMap -}}
{{- fail "set policy.rulesJson or policy.existingRulesConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.policy.rego .Values.policy.existingRegoConfigMap -}}
{{- fail "set policy.rego or policy.existingRegoConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) (not .Values.tls.certManager.enabled) -}}
{{- fail "tls.enabled needs a certificate: set tls.secretName (a kubernetes.io/tls Secret) or tls.certManager.enabled" -}}
{{- end -}}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) -}}
{{- fail "tls.certManager.enabled needs tls.certManager.issuerRef.name" -}}
{{- end -}}
{{- if and .Values.tls.clientCA.enabled (not .Values.tls.enabled) -}}
{{- fail "tls.clientCA.enabled (mTLS) needs tls.enabled" -}}
{{- end -}}
{{- end -}}
