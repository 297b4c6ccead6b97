package awsapi

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// MaxQueryParams bounds the number of form parameters one request may carry.
const MaxQueryParams = 1000

// Params is a decoded Query-protocol request: a flat map of form keys as AWS
// serialises them ("Tags.member.1.Key"), with helpers for lists and nested
// structures. A prefix scopes a view onto one nested structure.
type Params struct {
	values map[string]string
	prefix string
}

// ParseQuery decodes an x-www-form-urlencoded body (or a URL query string).
// It refuses repeated keys, invalid escapes, invalid UTF-8 and more than
// MaxQueryParams parameters: the parser must not choose between two values.
func ParseQuery(s string) (*Params, error) {
	return ParseForm(s, "")
}

// ParseForm decodes the parameters of a Query-protocol POST: those of the
// URL's query string and those of the x-www-form-urlencoded body, taken
// together as AWS's Query endpoints take them (a POST whose Action is in
// the query string and whose body carries the rest is one request). A
// parameter given in both places is refused like any repeated key.
func ParseForm(query, body string) (*Params, error) {
	p := &Params{values: make(map[string]string)}
	if err := p.parse(query); err != nil {
		return nil, err
	}
	if err := p.parse(body); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Params) parse(s string) error {
	if s == "" {
		return nil
	}
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		if len(p.values) >= MaxQueryParams {
			return Errorf(CodeValidation, "too many request parameters")
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return Errorf(CodeMalformedQueryString, "invalid escape in parameter name")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return Errorf(CodeMalformedQueryString, "invalid escape in value of parameter %q", fault.Printable(key, 64))
		}
		if !utf8.ValidString(key) || !utf8.ValidString(val) {
			return Errorf(CodeMalformedQueryString, "parameter %q is not valid UTF-8", fault.Printable(key, 64))
		}
		if key == "" {
			return Errorf(CodeMalformedQueryString, "empty parameter name")
		}
		if _, dup := p.values[key]; dup {
			return Errorf(CodeMalformedQueryString, "parameter %q given more than once", fault.Printable(key, 64))
		}
		p.values[key] = val
	}
	return nil
}

// Has reports whether the parameter was given (even empty).
func (p *Params) Has(name string) bool {
	_, ok := p.values[p.prefix+name]
	return ok
}

// String returns the parameter's value, "" if absent.
func (p *Params) String(name string) string { return p.values[p.prefix+name] }

// Lookup returns the parameter's value and whether it was given.
func (p *Params) Lookup(name string) (string, bool) {
	v, ok := p.values[p.prefix+name]
	return v, ok
}

// Required returns the parameter's value or a ValidationError naming it.
func (p *Params) Required(name string) (string, error) {
	v, ok := p.values[p.prefix+name]
	if !ok || v == "" {
		return "", Errorf(CodeValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(p.prefix+name))
	}
	return v, nil
}

// Int returns an integer parameter; def if absent; a ValidationError if not
// an integer or outside [min, max].
func (p *Params) Int(name string, def, min, max int64) (int64, error) {
	v, ok := p.values[p.prefix+name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, Errorf(CodeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", fault.Printable(v, 64), lowerFirst(p.prefix+name))
	}
	if n < min {
		return 0, Errorf(CodeValidation, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, lowerFirst(p.prefix+name), min)
	}
	if n > max {
		return 0, Errorf(CodeValidation, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, lowerFirst(p.prefix+name), max)
	}
	return n, nil
}

// Bool returns a boolean parameter ("true"/"false"), def if absent.
func (p *Params) Bool(name string, def bool) (bool, error) {
	v, ok := p.values[p.prefix+name]
	if !ok || v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, Errorf(CodeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", fault.Printable(v, 64), lowerFirst(p.prefix+name))
}

// memberIndexes returns the sorted N of "name.member.N" keys (and of the
// "name.member.N.sub" form).
func (p *Params) memberIndexes(name string) []int {
	pre := p.prefix + name + ".member."
	seen := map[int]bool{}
	for k := range p.values {
		rest, ok := strings.CutPrefix(k, pre)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || strconv.Itoa(n) != num {
			continue
		}
		seen[n] = true
	}
	idx := make([]int, 0, len(seen))
	for n := range seen {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	return idx
}

// Strings returns the list "name.member.1", "name.member.2", … in index order.
func (p *Params) Strings(name string) []string {
	var out []string
	for _, n := range p.memberIndexes(name) {
		if v, ok := p.values[fmt.Sprintf("%s%s.member.%d", p.prefix, name, n)]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Members returns one scoped view per "name.member.N." structure.
func (p *Params) Members(name string) []*Params {
	var out []*Params
	for _, n := range p.memberIndexes(name) {
		out = append(out, &Params{values: p.values, prefix: fmt.Sprintf("%s%s.member.%d.", p.prefix, name, n)})
	}
	return out
}

// Tags decodes "name.member.N.Key/Value" into an ordered list.
func (p *Params) Tags(name string) []Tag {
	var out []Tag
	for _, m := range p.Members(name) {
		out = append(out, Tag{Key: m.String("Key"), Value: m.String("Value")})
	}
	return out
}

// Tag is the Query protocol's Key/Value pair.
type Tag struct {
	Key   string `xml:"Key" json:"Key"`
	Value string `xml:"Value" json:"Value"`
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Map returns the parameters for which keep returns true, for the record.
func (p *Params) Map(keep func(name string) bool) map[string]any {
	m := make(map[string]any, len(p.values))
	for k, v := range p.values {
		if keep(k) {
			m[k] = v
		}
	}
	return m
}
