package policy

import (
	"bytes"
	"encoding/json"
)

// Marshal returns the canonical JSON form of p: compact, members in the order of the
// IAM reference, Statement always an array, single values written as one-element arrays,
// condition values as strings. Parse(p.Marshal(), p.Kind()) gives an equivalent policy
// whose Marshal is the same bytes.
func (p *Policy) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`{"Version":`)
	str(&b, p.Version)
	if p.ID != "" {
		b.WriteString(`,"Id":`)
		str(&b, p.ID)
	}
	b.WriteString(`,"Statement":[`)
	for i := range p.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		p.Statements[i].marshal(&b)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// String returns the canonical JSON form of p, as Marshal does.
func (p *Policy) String() string { return string(p.Marshal()) }

func (s *Statement) marshal(b *bytes.Buffer) {
	b.WriteByte('{')
	if s.Sid != "" {
		b.WriteString(`"Sid":`)
		str(b, s.Sid)
		b.WriteByte(',')
	}
	b.WriteString(`"Effect":`)
	str(b, s.Effect)
	principals(b, "Principal", s.Principal)
	principals(b, "NotPrincipal", s.NotPrincipal)
	list(b, "Action", s.Action)
	list(b, "NotAction", s.NotAction)
	list(b, "Resource", s.Resource)
	list(b, "NotResource", s.NotResource)
	if s.Conditions != nil {
		b.WriteString(`,"Condition":{`)
		// Parse keeps the keys of one operator together, in document order.
		for i, c := range s.Conditions {
			first := i == 0 || s.Conditions[i-1].Operator != c.Operator
			if first {
				if i > 0 {
					b.WriteString("},")
				}
				str(b, c.Operator)
				b.WriteString(":{")
			} else {
				b.WriteByte(',')
			}
			str(b, c.Key)
			b.WriteByte(':')
			array(b, c.Values)
		}
		if len(s.Conditions) > 0 {
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func principals(b *bytes.Buffer, name string, p *Principals) {
	if p == nil {
		return
	}
	b.WriteString(`,"` + name + `":`)
	if p.Any {
		b.WriteString(`"*"`)
		return
	}
	b.WriteByte('{')
	sep := ""
	for _, kv := range [...]struct {
		k string
		v []string
	}{{"AWS", p.AWS}, {"CanonicalUser", p.CanonicalUser}, {"Federated", p.Federated}, {"Service", p.Service}} {
		if kv.v == nil {
			continue
		}
		b.WriteString(sep + `"` + kv.k + `":`)
		array(b, kv.v)
		sep = ","
	}
	b.WriteByte('}')
}

func list(b *bytes.Buffer, name string, v []string) {
	if v == nil {
		return
	}
	b.WriteString(`,"` + name + `":`)
	array(b, v)
}

func array(b *bytes.Buffer, v []string) {
	b.WriteByte('[')
	for i, s := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		str(b, s)
	}
	b.WriteByte(']')
}

func str(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
