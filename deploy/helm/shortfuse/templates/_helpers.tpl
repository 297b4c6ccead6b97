{{/* The chart's name, or nameOverride. */}}
{{- define "shortfuse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name: fullnameOverride, or release-chart (the release name alone when it contains the chart's). */}}
{{- define "shortfuse.fullname" -}}
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

{{- define "shortfuse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "shortfuse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shortfuse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "shortfuse.labels" -}}
helm.sh/chart: {{ include "shortfuse.chart" . }}
{{ include "shortfuse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: broker
{{- end }}

{{- define "shortfuse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "shortfuse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "shortfuse.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* HTTPS when the broker has a certificate. */}}
{{- define "shortfuse.scheme" -}}
{{- if .Values.tls.existingSecret }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
The combinations the broker would refuse at start, refused at render time
instead (values.schema.json refuses them too; this keeps the message plain).
*/}}
{{- define "shortfuse.validate" -}}
{{- if eq .Values.store.type "embedded" }}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %v: the embedded store serves one replica; use store.type=postgres for more" .Values.replicaCount) }}
{{- end }}
{{- else if eq .Values.store.type "postgres" }}
{{- if not .Values.store.postgres.existingSecret }}
{{- fail "store.type=postgres needs store.postgres.existingSecret: the Secret holding the postgres:// URL" }}
{{- end }}
{{- if not .Values.masterKey.existingSecret }}
{{- fail "store.type=postgres needs masterKey.existingSecret: every replica must use the same master key" }}
{{- end }}
{{- else }}
{{- fail (printf "store.type %q: want embedded or postgres" .Values.store.type) }}
{{- end }}
{{- if and (not .Values.tls.existingSecret) (not .Values.insecureHTTP) }}
{{- fail "the broker refuses plain HTTP off loopback: set tls.existingSecret, or insecureHTTP=true if a proxy in front of it terminates TLS" }}
{{- end }}
{{- end }}

{{/* The pod template shared by the StatefulSet (embedded) and the Deployment (postgres). */}}
{{- define "shortfuse.podTemplate" -}}
metadata:
  labels:
    {{- include "shortfuse.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: broker
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if .Values.metrics.enabled }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ .Values.port | quote }}
    prometheus.io/path: /metrics
    prometheus.io/scheme: {{ include "shortfuse.scheme" . | lower }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "shortfuse.serviceAccountName" . }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    runAsNonRoot: true
    runAsUser: {{ .Values.runAsUser }}
    runAsGroup: {{ .Values.runAsGroup }}
    fsGroup: {{ .Values.fsGroup }}
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: shortfuse
      image: {{ include "shortfuse.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["server"]
      ports:
        - name: api
          containerPort: {{ .Values.port }}
          protocol: TCP
      env:
        - name: SHORTFUSE_DATA
          value: /data
        - name: SHORTFUSE_LISTEN
          value: {{ printf "0.0.0.0:%v" .Values.port | quote }}
        {{- if .Values.masterKey.existingSecret }}
        - name: SHORTFUSE_MASTER_KEY
          valueFrom:
            secretKeyRef:
              name: {{ .Values.masterKey.existingSecret }}
              key: {{ .Values.masterKey.secretKey }}
        {{- end }}
        {{- if eq .Values.store.type "postgres" }}
        - name: SHORTFUSE_STORE
          valueFrom:
            secretKeyRef:
              name: {{ .Values.store.postgres.existingSecret }}
              key: {{ .Values.store.postgres.urlKey }}
        {{- if .Values.store.postgres.passwordSecret }}
        - name: PGPASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .Values.store.postgres.passwordSecret }}
              key: {{ .Values.store.postgres.passwordKey }}
        {{- end }}
        {{- end }}
        {{- if .Values.tls.existingSecret }}
        - name: SHORTFUSE_TLS_CERT
          value: /tls/tls.crt
        - name: SHORTFUSE_TLS_KEY
          value: /tls/tls.key
        {{- else }}
        - name: SHORTFUSE_INSECURE_HTTP
          value: "true"
        - name: SHORTFUSE_HEALTHCHECK_URL
          value: {{ printf "http://127.0.0.1:%v" .Values.port | quote }}
        {{- end }}
        {{- range $name, $value := .Values.config }}
        - name: {{ $name }}
          value: {{ $value | toString | quote }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: api
          scheme: {{ include "shortfuse.scheme" . }}
        periodSeconds: {{ .Values.startupProbe.periodSeconds }}
        failureThreshold: {{ .Values.startupProbe.failureThreshold }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: api
          scheme: {{ include "shortfuse.scheme" . }}
        periodSeconds: {{ .Values.livenessProbe.periodSeconds }}
        timeoutSeconds: {{ .Values.livenessProbe.timeoutSeconds }}
        failureThreshold: {{ .Values.livenessProbe.failureThreshold }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: api
          scheme: {{ include "shortfuse.scheme" . }}
        periodSeconds: {{ .Values.readinessProbe.periodSeconds }}
        timeoutSeconds: {{ .Values.readinessProbe.timeoutSeconds }}
        failureThreshold: {{ .Values.readinessProbe.failureThreshold }}
      securityContext:
        runAsNonRoot: true
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        privileged: false
        capabilities:
          drop: ["ALL"]
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: data
          mountPath: /data
        {{- if .Values.tls.existingSecret }}
        - name: tls
          mountPath: /tls
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with .Values.extraContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    {{- if eq .Values.store.type "postgres" }}
    - name: data
      emptyDir:
        sizeLimit: {{ .Values.dataVolume.sizeLimit }}
    {{- end }}
    {{- if .Values.tls.existingSecret }}
    - name: tls
      secret:
        secretName: {{ .Values.tls.existingSecret }}
        defaultMode: 0440
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
