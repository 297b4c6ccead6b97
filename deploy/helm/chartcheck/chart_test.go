package chartcheck

import (
	"fmt"
	"strings"
	"testing"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const chartDir = "../shortfuse"

// The values sets that must lint, render and validate. Each is checked for
// what its mode promises.
var good = []struct {
	name     string
	values   string
	postgres bool
	replicas int32
	tls      bool
	metrics  bool
	netpol   bool
	monitor  bool
	ingress  bool
}{
	{
		name: "embedded, TLS, master key created on the volume",
		values: `
tls: {existingSecret: shortfuse-tls}
`,
		replicas: 1, tls: true, metrics: true, netpol: true,
	},
	{
		name: "embedded, behind a TLS proxy, master key from a Secret, metrics and NetworkPolicy off",
		values: `
insecureHTTP: true
masterKey: {existingSecret: shortfuse-master-key}
metrics: {enabled: false}
networkPolicy: {enabled: false}
config: {SHORTFUSE_AUDIT_KEEP: 16, SHORTFUSE_MAX_SESSION_DURATION: 30m}
persistence: {size: 5Gi, storageClass: fast}
`,
		replicas: 1,
	},
	{
		name: "3 replicas over PostgreSQL, everything on",
		values: `
store:
  type: postgres
  postgres: {existingSecret: shortfuse-store, passwordSecret: shortfuse-pg-password}
replicaCount: 3
masterKey: {existingSecret: shortfuse-master-key}
tls: {existingSecret: shortfuse-tls}
ingress:
  enabled: true
  className: nginx
  annotations: {nginx.ingress.kubernetes.io/backend-protocol: HTTPS}
  hosts: [{host: shortfuse.example.com, paths: [{path: /, pathType: Prefix}]}]
  tls: [{secretName: shortfuse-example-tls, hosts: [shortfuse.example.com]}]
metrics:
  serviceMonitor: {enabled: true, labels: {release: prometheus}, tlsConfig: {insecureSkipVerify: true}}
networkPolicy:
  ingressFrom:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ci}}
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
  postgres: {to: [{ipBlock: {cidr: 10.0.12.5/32}}]}
  extraEgress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{port: 443, protocol: TCP}]
extraEnv:
  - name: SHORTFUSE_NOTIFY_WEBHOOK
    valueFrom: {secretKeyRef: {name: shortfuse-webhook, key: url}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector: {matchLabels: {app.kubernetes.io/name: shortfuse}}
`,
		postgres: true, replicas: 3, tls: true, metrics: true, netpol: true, monitor: true, ingress: true,
	},
	{
		name: "2 replicas over PostgreSQL behind a TLS proxy, metrics off",
		values: `
store: {type: postgres, postgres: {existingSecret: shortfuse-store}}
replicaCount: 2
masterKey: {existingSecret: shortfuse-master-key}
insecureHTTP: true
metrics: {enabled: false}
`,
		postgres: true, replicas: 2, netpol: true,
	},
}

// The values sets that must be refused, at lint and at render, with a
// message containing want.
// Those with a template message are refused by the templates too, with that
// message, when the schema is skipped (--skip-schema-validation).
var bad = []struct {
	name     string
	values   string
	want     string
	template string
}{
	{"the defaults: neither TLS nor insecureHTTP", ``, "tls/existingSecret", "refuses plain HTTP off loopback"},
	{"embedded with 3 replicas", `{tls: {existingSecret: t}, replicaCount: 3}`, "replicaCount", "the embedded store serves one replica"},
	{"postgres without the URL's Secret", `{tls: {existingSecret: t}, store: {type: postgres}, replicaCount: 2, masterKey: {existingSecret: k}}`, "store/postgres/existingSecret", "needs store.postgres.existingSecret"},
	{"postgres without the master key", `{tls: {existingSecret: t}, store: {type: postgres, postgres: {existingSecret: s}}, replicaCount: 2}`, "masterKey", "needs masterKey.existingSecret"},
	{"an unknown store", `{tls: {existingSecret: t}, store: {type: sqlite}}`, "store", "want embedded or postgres"},
	{"an unknown value", `{tls: {existingSecret: t}, replicas: 3}`, "replicas", ""},
	{"a port of the wrong type", `{tls: {existingSecret: t}, port: "http"}`, "port", ""},
	{"a setting the chart owns", `{tls: {existingSecret: t}, config: {SHORTFUSE_STORE: "postgres://u:p@db/x"}}`, "SHORTFUSE_STORE", ""},
	{"a setting the chart owns, in extraEnv", `{tls: {existingSecret: t}, extraEnv: [{name: SHORTFUSE_MASTER_KEY_FILE, value: /k}]}`, "extraEnv", ""},
	{"a setting that is not the broker's", `{tls: {existingSecret: t}, config: {PGPASSWORD: x}}`, "PGPASSWORD", ""},
	{"an image digest that is not one", `{tls: {existingSecret: t}, image: {digest: latest}}`, "digest", ""},
}

func loadChart(t *testing.T) {
	t.Helper()
	if _, err := Load(chartDir); err != nil {
		t.Fatalf("load %s: %v", chartDir, err)
	}
}

// chartWith loads the chart and parses the values file values.
func chartWith(t *testing.T, values string) (*chart.Chart, map[string]any) {
	t.Helper()
	vals, err := ParseValues(values)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return ch, vals
}

func TestGoodValues(t *testing.T) {
	loadChart(t)
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			ch, vals := chartWith(t, tc.values)
			if err := Lint(chartDir, vals); err != nil {
				t.Fatalf("helm lint:\n%v", err)
			}
			docs, notes, err := Render(ch, vals, false)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			objs := map[string][]any{}
			for _, d := range docs {
				obj, err := Validate(d.YAML)
				if err != nil {
					t.Fatalf("%s: %v\n%s", d.Describe(), err, d.YAML)
				}
				kind := fmt.Sprintf("%T", obj)
				objs[kind] = append(objs[kind], obj)
			}
			checkRelease(t, objs, tc.postgres, tc.replicas, tc.tls, tc.metrics, tc.netpol, tc.monitor, tc.ingress)
			if !strings.Contains(notes, "admin-credentials") {
				t.Errorf("NOTES.txt does not say where admin-credentials is:\n%s", notes)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	loadChart(t)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			ch, vals := chartWith(t, tc.values)
			lintErr := Lint(chartDir, vals)
			if lintErr == nil || !strings.Contains(lintErr.Error(), tc.want) {
				t.Errorf("helm lint: got %v, want an error about %q", lintErr, tc.want)
			}
			_, _, err := Render(ch, vals, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template: got %v, want an error about %q", err, tc.want)
			}
			if tc.template != "" {
				_, _, err = Render(ch, vals, true)
				if err == nil || !strings.Contains(err.Error(), tc.template) {
					t.Errorf("helm template --skip-schema-validation: got %v, want %q", err, tc.template)
				}
			}
		})
	}
}

// Objects that render but that the API server would refuse must fail
// Validate: the chart passes extraContainers, extraVolumes and tolerations
// through as they are, so they carry the mistakes here.
func TestValidateRefusesWhatTheAPIServerWould(t *testing.T) {
	loadChart(t)
	// both: the strict decoding and the schema each refuse it.
	cases := []struct {
		name, values, want string
		both               bool
	}{
		{"an unknown field", `extraContainers: [{name: shipper, image: vector, bogusField: 1}]`, "bogusField", true},
		{"a field in the wrong case", `extraContainers: [{name: shipper, Image: vector}]`, "Image", true},
		{"a value of the wrong type", `tolerations: [{key: k, operator: Exists, tolerationSeconds: soon}]`, "tolerationSeconds", true},
		{"a list where an object belongs", `extraVolumes: [{name: v, emptyDir: [1]}]`, "emptyDir", true},
		{"an invalid label", `podLabels: {"team": "a b"}`, "label", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs := renderValues(t, "tls: {existingSecret: t}\n"+tc.values)
			var errs []string
			for _, d := range docs {
				if _, err := Validate(d.YAML); err != nil {
					errs = append(errs, err.Error())
				}
			}
			if len(errs) == 0 {
				t.Fatalf("every object validated")
			}
			all := strings.Join(errs, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("errors do not name %q:\n%s", tc.want, all)
			}
			if tc.both && (!strings.Contains(all, "decode: ") || !strings.Contains(all, "schema: ")) {
				t.Errorf("want both the strict decoding and the schema to refuse it:\n%s", all)
			}
		})
	}
	// And a document that is not YAML of one object at all.
	if _, err := Validate("kind: Service\nkind: Service\n"); err == nil {
		t.Errorf("duplicate key accepted")
	}
	if _, err := Validate("apiVersion: v1\nkind: Sevrice\nmetadata: {name: x}\n"); err == nil {
		t.Errorf("unknown kind accepted")
	}
}

func one[T any](t *testing.T, objs map[string][]any) (T, bool) {
	t.Helper()
	var zero T
	list := objs[fmt.Sprintf("%T", zero)]
	switch len(list) {
	case 0:
		return zero, false
	case 1:
		return list[0].(T), true
	}
	t.Fatalf("%d objects of type %T, want at most 1", len(list), zero)
	return zero, false
}

// checkRelease checks what a release promises, over all its objects.
func checkRelease(t *testing.T, objs map[string][]any, postgres bool, replicas int32, tls, metrics, netpol, monitor, ingress bool) {
	t.Helper()
	var pod corev1.PodTemplateSpec
	var selector map[string]string
	sts, hasSTS := one[*appsv1.StatefulSet](t, objs)
	dep, hasDep := one[*appsv1.Deployment](t, objs)
	pdb, hasPDB := one[*policyv1.PodDisruptionBudget](t, objs)
	if postgres {
		if hasSTS || !hasDep {
			t.Fatalf("PostgreSQL: want a Deployment and no StatefulSet")
		}
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != replicas {
			t.Errorf("Deployment replicas %v, want %d", dep.Spec.Replicas, replicas)
		}
		if !hasPDB || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() < 1 {
			t.Errorf("PostgreSQL: want a PodDisruptionBudget with maxUnavailable >= 1")
		} else if !selects(pdb.Spec.Selector.MatchLabels, dep.Spec.Template.Labels) {
			t.Errorf("the PodDisruptionBudget does not select the pods")
		}
		pod, selector = dep.Spec.Template, dep.Spec.Selector.MatchLabels
		data := volume(pod.Spec, "data")
		if data == nil || data.EmptyDir == nil {
			t.Errorf("PostgreSQL: want the data directory on an emptyDir, got %+v", data)
		}
		env := envOf(t, pod.Spec)
		if ref := env["SHORTFUSE_STORE"]; ref == nil || ref.ValueFrom == nil || ref.ValueFrom.SecretKeyRef == nil {
			t.Errorf("SHORTFUSE_STORE does not come from a Secret: %+v", ref)
		}
		if ref := env["SHORTFUSE_MASTER_KEY"]; ref == nil || ref.ValueFrom == nil || ref.ValueFrom.SecretKeyRef == nil {
			t.Errorf("PostgreSQL: SHORTFUSE_MASTER_KEY does not come from a Secret: %+v", ref)
		}
	} else {
		if !hasSTS || hasDep || hasPDB {
			t.Fatalf("embedded: want a StatefulSet, no Deployment, no PodDisruptionBudget")
		}
		if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
			t.Errorf("StatefulSet replicas %v, want 1", sts.Spec.Replicas)
		}
		if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
			t.Errorf("embedded: want one volume claim template, data")
		} else if sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().IsZero() {
			t.Errorf("embedded: the volume claim asks for no storage")
		}
		pod, selector = sts.Spec.Template, sts.Spec.Selector.MatchLabels
		if _, ok := envOf(t, pod.Spec)["SHORTFUSE_STORE"]; ok {
			t.Errorf("embedded: SHORTFUSE_STORE is set")
		}
		found := false
		for _, o := range objs[fmt.Sprintf("%T", &corev1.Service{})] {
			svc := o.(*corev1.Service)
			if svc.Name == sts.Spec.ServiceName && svc.Spec.ClusterIP == corev1.ClusterIPNone {
				found = true
			}
		}
		if !found {
			t.Errorf("no headless Service %q for the StatefulSet", sts.Spec.ServiceName)
		}
	}
	if len(selector) == 0 || !selects(selector, pod.Labels) {
		t.Errorf("the selector %v does not select the pod template's labels %v", selector, pod.Labels)
	}
	checkPod(t, pod, tls, metrics)

	services := objs[fmt.Sprintf("%T", &corev1.Service{})]
	if len(services) == 0 {
		t.Fatalf("no Service")
	}
	for _, o := range services {
		svc := o.(*corev1.Service)
		if !selects(svc.Spec.Selector, pod.Labels) {
			t.Errorf("Service %s does not select the pods", svc.Name)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "api" {
			t.Errorf("Service %s ports %+v, want one, to the port api", svc.Name, svc.Spec.Ports)
		}
	}

	np, hasNP := one[*networkingv1.NetworkPolicy](t, objs)
	if hasNP != netpol {
		t.Fatalf("NetworkPolicy present: %v, want %v", hasNP, netpol)
	}
	if netpol {
		checkNetworkPolicy(t, np, pod.Labels, postgres)
	}
	sm, hasSM := one[*serviceMonitor](t, objs)
	if hasSM != monitor {
		t.Errorf("ServiceMonitor present: %v, want %v", hasSM, monitor)
	}
	if hasSM {
		if sm.Spec.Endpoints[0].Port != "api" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoint %+v", sm.Spec.Endpoints[0])
		}
		if want := map[bool]string{true: "https", false: "http"}[tls]; sm.Spec.Endpoints[0].Scheme != want {
			t.Errorf("ServiceMonitor scheme %q, want %q", sm.Spec.Endpoints[0].Scheme, want)
		}
		n := 0
		for _, o := range services {
			if selects(sm.Spec.Selector.MatchLabels, o.(*corev1.Service).Labels) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the ServiceMonitor selects %d Services, want 1 (each pod scraped once)", n)
		}
	}
	ing, hasIng := one[*networkingv1.Ingress](t, objs)
	if hasIng != ingress {
		t.Errorf("Ingress present: %v, want %v", hasIng, ingress)
	}
	if hasIng {
		be := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
		if be == nil || be.Port.Name != "api" {
			t.Errorf("Ingress backend %+v", be)
		}
	}
	sa, hasSA := one[*corev1.ServiceAccount](t, objs)
	if !hasSA || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("want a ServiceAccount that does not automount its token")
	} else if pod.Spec.ServiceAccountName != sa.Name {
		t.Errorf("the pods run as %q, not as the chart's ServiceAccount %q", pod.Spec.ServiceAccountName, sa.Name)
	}
}

func checkPod(t *testing.T, pod corev1.PodTemplateSpec, tls, metrics bool) {
	t.Helper()
	spec := pod.Spec
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("the service account token is mounted")
	}
	// Service links would put SHORTFUSE_PORT, SHORTFUSE_SERVICE_HOST and the
	// like into the broker's environment, where SHORTFUSE_* are its settings.
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("service links are on")
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile is not RuntimeDefault")
	}
	c := container(spec, "shortfuse")
	if c == nil {
		t.Fatalf("no container shortfuse")
	}
	if c.Image == "" || strings.HasSuffix(c.Image, ":") {
		t.Errorf("image %q", c.Image)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatalf("no container securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("privilege escalation allowed")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Errorf("container may run as root")
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0:
		t.Errorf("capabilities %+v: want drop ALL, add none", sc.Capabilities)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "api" {
		t.Fatalf("container ports %+v, want one named api", c.Ports)
	}
	scheme := corev1.URISchemeHTTP
	if tls {
		scheme = corev1.URISchemeHTTPS
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.String() != "api" || g.Scheme != scheme {
			t.Errorf("%s probe %s %s %s, want %s api %s", p.name, g.Path, g.Port.String(), g.Scheme, p.path, scheme)
		}
	}

	// Secrets never on the command line nor as literal values.
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		if strings.Contains(a, "postgres://") || strings.HasPrefix(a, "--store") || strings.HasPrefix(a, "--master-key") {
			t.Errorf("a secret on the command line: %q", a)
		}
	}
	env := envOf(t, spec)
	for name, e := range env {
		if strings.Contains(e.Value, "postgres://") || strings.Contains(e.Value, "shortfuse-master-key") {
			t.Errorf("%s holds a secret as a literal value", name)
		}
	}
	for _, name := range []string{"SHORTFUSE_MASTER_KEY", "PGPASSWORD"} {
		if e, ok := env[name]; ok && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s does not come from a Secret", name)
		}
	}
	if env["SHORTFUSE_DATA"] == nil || env["SHORTFUSE_DATA"].Value != "/data" || !mounted(c, "data", "/data") {
		t.Errorf("the data directory is not the volume data at /data")
	}
	if tls {
		if env["SHORTFUSE_TLS_CERT"] == nil || env["SHORTFUSE_TLS_KEY"] == nil || !mounted(c, "tls", "/tls") {
			t.Errorf("TLS: the certificate is not given to the broker")
		}
		if _, ok := env["SHORTFUSE_INSECURE_HTTP"]; ok {
			t.Errorf("TLS and SHORTFUSE_INSECURE_HTTP both set")
		}
	} else if e := env["SHORTFUSE_INSECURE_HTTP"]; e == nil || e.Value != "true" {
		t.Errorf("no TLS and no SHORTFUSE_INSECURE_HTTP: the broker would refuse to start")
	}

	ann := pod.Annotations
	if metrics {
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != fmt.Sprint(c.Ports[0].ContainerPort) {
			t.Errorf("metrics: scrape annotations %v", ann)
		}
		if want := strings.ToLower(string(scheme)); ann["prometheus.io/scheme"] != want {
			t.Errorf("metrics: prometheus.io/scheme %q, want %q", ann["prometheus.io/scheme"], want)
		}
	} else if _, ok := ann["prometheus.io/scrape"]; ok {
		t.Errorf("metrics off, scrape annotation present")
	}
}

func checkNetworkPolicy(t *testing.T, np *networkingv1.NetworkPolicy, podLabels map[string]string, postgres bool) {
	t.Helper()
	sel, err := metav1LabelSelectorAsSelector(np.Spec.PodSelector.MatchLabels)
	if err != nil || !sel.Matches(labels.Set(podLabels)) {
		t.Errorf("the NetworkPolicy does not select the pods")
	}
	if len(np.Spec.PolicyTypes) != 2 {
		t.Errorf("policyTypes %v, want Ingress and Egress", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "api" {
		t.Errorf("ingress %+v: want the port api only", np.Spec.Ingress)
	}
	var dns, pg bool
	for _, r := range np.Spec.Egress {
		for _, p := range r.Ports {
			if p.Port != nil && p.Port.IntValue() == 53 && p.Protocol != nil && *p.Protocol == corev1.ProtocolUDP {
				dns = true
			}
			if p.Port != nil && p.Port.IntValue() == 5432 {
				pg = true
			}
		}
	}
	if !dns {
		t.Errorf("no DNS egress")
	}
	if pg != postgres {
		t.Errorf("PostgreSQL egress: %v, want %v", pg, postgres)
	}
}

func metav1LabelSelectorAsSelector(m map[string]string) (labels.Selector, error) {
	if len(m) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	return labels.SelectorFromSet(m), nil
}

func selects(selector, lbls map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(lbls))
}

func container(spec corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

func mounted(c *corev1.Container, name, at string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == name && m.MountPath == at {
			return true
		}
	}
	return false
}

func envOf(t *testing.T, spec corev1.PodSpec) map[string]*corev1.EnvVar {
	t.Helper()
	c := container(spec, "shortfuse")
	env := map[string]*corev1.EnvVar{}
	for i := range c.Env {
		e := &c.Env[i]
		if _, dup := env[e.Name]; dup {
			t.Errorf("environment variable %s set twice", e.Name)
		}
		env[e.Name] = e
	}
	return env
}
