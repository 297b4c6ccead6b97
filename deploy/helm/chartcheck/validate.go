package chartcheck

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// typeConverter validates objects against the schema client-go generates
// from the Kubernetes OpenAPI document (the one server-side apply uses).
var typeConverter managedfields.TypeConverter = applyconfigurations.NewTypeConverter(scheme.Scheme)

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
// value of its field's type); it must validate against the OpenAPI-derived
// schema; its name, namespace, labels and annotations must be valid.
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
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("%s: not a kind of the Kubernetes API: %w", gvk, err)
	}
	// Both checks, so that each is seen to work.
	var errs []error
	if err := strictDecode(js, obj); err != nil {
		errs = append(errs, fmt.Errorf("%s: decode: %w", gvk.Kind, err))
	}
	if _, err := typeConverter.ObjectToTyped(&u); err != nil {
		errs = append(errs, fmt.Errorf("%s: schema: %w", gvk.Kind, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return obj, nil
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
