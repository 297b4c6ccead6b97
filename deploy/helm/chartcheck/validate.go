package chartcheck

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds are the Kubernetes API kinds the chart renders, each with its
// k8s.io/api type. A template that renders any other kind fails Validate
// until its type is added here.
var kinds = map[schema.GroupVersionKind]func() any{
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}:                func() any { return &appsv1.StatefulSet{} },
	{Group: "apps", Version: "v1", Kind: "Deployment"}:                 func() any { return &appsv1.Deployment{} },
	{Version: "v1", Kind: "Service"}:                                   func() any { return &corev1.Service{} },
	{Version: "v1", Kind: "ServiceAccount"}:                            func() any { return &corev1.ServiceAccount{} },
	{Version: "v1", Kind: "Secret"}:                                    func() any { return &corev1.Secret{} },
	{Version: "v1", Kind: "ConfigMap"}:                                 func() any { return &corev1.ConfigMap{} },
	{Version: "v1", Kind: "PersistentVolumeClaim"}:                     func() any { return &corev1.PersistentVolumeClaim{} },
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}: func() any { return &networkingv1.NetworkPolicy{} },
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}:       func() any { return &networkingv1.Ingress{} },
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}:      func() any { return &policyv1.PodDisruptionBudget{} },
}

// serviceMonitorGVK is the Prometheus Operator's kind, which no k8s.io
// module knows: it is checked against serviceMonitor below.
var serviceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}

// serviceMonitor is the subset of monitoring.coreos.com/v1 ServiceMonitor
// that the chart writes, field names as the CRD spells them.
type serviceMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port          string         `json:"port"`
			Path          string         `json:"path"`
			Scheme        string         `json:"scheme"`
			Interval      string         `json:"interval"`
			ScrapeTimeout string         `json:"scrapeTimeout"`
			TLSConfig     map[string]any `json:"tlsConfig"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// Validate checks one rendered document and returns it decoded: a typed
// k8s.io/api object, or a *serviceMonitor. The YAML must parse without
// duplicate keys; the object must decode strictly into its Go type (no
// unknown field, no field spelled in another case, no duplicate field, every
// value of its field's type); the lists the API server keys by a field
// (containers, ports, env, volumes, volume mounts) must not repeat a key;
// its name, labels and annotations must be valid.
func Validate(doc string) (any, error) {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	gvk := u.GroupVersionKind()
	if err := checkMeta(&u); err != nil {
		return nil, err
	}
	if gvk == serviceMonitorGVK {
		sm := &serviceMonitor{}
		if err := strictDecode(js, sm); err != nil {
			return nil, fmt.Errorf("%s: %w", gvk.Kind, err)
		}
		if len(sm.Spec.Endpoints) == 0 || len(sm.Spec.Selector.MatchLabels) == 0 {
			return nil, fmt.Errorf("ServiceMonitor: no endpoints or no selector")
		}
		return sm, nil
	}
	newObj, ok := kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("%s: not a kind the chart renders (chartcheck's kinds)", gvk)
	}
	obj := newObj()
	if err := strictDecode(js, obj); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", gvk.Kind, err)
	}
	if err := checkListKeys(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", gvk.Kind, err)
	}
	return obj, nil
}

// checkListKeys refuses what server-side apply refuses in the lists it
// treats as maps ("duplicate entries for key"), for the lists the chart
// writes: containers and init containers by name, a container's ports by
// containerPort and protocol, its env by name and its volume mounts by
// mountPath, volumes by name, a Service's ports by port and protocol.
func checkListKeys(obj any) error {
	var pod *corev1.PodSpec
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		pod = &o.Spec.Template.Spec
	case *appsv1.Deployment:
		pod = &o.Spec.Template.Spec
	case *corev1.Service:
		seen := map[string]bool{}
		for _, p := range o.Spec.Ports {
			if err := once(seen, "Service port", fmt.Sprintf("%d/%s", p.Port, protocol(p.Protocol))); err != nil {
				return err
			}
		}
	}
	if pod == nil {
		return nil
	}
	names := map[string]bool{}
	for _, list := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for _, c := range list {
			if err := once(names, "container", c.Name); err != nil {
				return err
			}
			ports, env, mounts := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, p := range c.Ports {
				if err := once(ports, "container "+c.Name+" port", fmt.Sprintf("%d/%s", p.ContainerPort, protocol(p.Protocol))); err != nil {
					return err
				}
			}
			for _, e := range c.Env {
				if err := once(env, "container "+c.Name+" env", e.Name); err != nil {
					return err
				}
			}
			for _, m := range c.VolumeMounts {
				if err := once(mounts, "container "+c.Name+" volume mount", m.MountPath); err != nil {
					return err
				}
			}
		}
	}
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		if err := once(vols, "volume", v.Name); err != nil {
			return err
		}
	}
	return nil
}

func once(seen map[string]bool, what, key string) error {
	if seen[key] {
		return fmt.Errorf("duplicate %s %q", what, key)
	}
	seen[key] = true
	return nil
}

// protocol is p with the API server's default, TCP.
func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// strictDecode decodes js into v as the API server does: case-sensitive
// field names, and unknown or duplicate fields refused.
func strictDecode(js []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(js, v, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

func checkMeta(u *unstructured.Unstructured) error {
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return errors.New("apiVersion or kind missing")
	}
	if msgs := validation.IsDNS1123Subdomain(u.GetName()); len(msgs) > 0 {
		return fmt.Errorf("%s name %q: %s", u.GetKind(), u.GetName(), strings.Join(msgs, "; "))
	}
	if err := checkLabels(u.GetKind(), u.GetLabels(), u.GetAnnotations()); err != nil {
		return err
	}
	// A workload's pod template has labels and annotations of its own.
	tl, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
	ta, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
	return checkLabels(u.GetKind()+" pod template", tl, ta)
}

func checkLabels(where string, lbls, anns map[string]string) error {
	for k, v := range lbls {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return fmt.Errorf("%s label %q: %s", where, k, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return fmt.Errorf("%s label %s=%q: %s", where, k, v, strings.Join(msgs, "; "))
		}
	}
	for k := range anns {
		if msgs := validation.IsQualifiedName(strings.ToLower(k)); len(msgs) > 0 {
			return fmt.Errorf("%s annotation %q: %s", where, k, strings.Join(msgs, "; "))
		}
	}
	return nil
}
