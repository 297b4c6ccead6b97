package audit

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's own nesting limit.
const maxJSONDepth = 10000

var errSyntax = errors.New("audit: invalid JSON")

// ScrubJSON is Scrub of the JSON object at the start of b, as a json.Decoder with
// UseNumber would decode it into a map[string]any (what follows that first value is not
// read; a top-level null gives nil). It decodes and scrubs in one pass, without
// reflection: the request parameters and response elements of every audit record go
// through it. It fails where that decoder fails.
func (r *Redactor) ScrubJSON(b []byte) (map[string]any, error) {
	p := jsonParser{b: b}
	p.space()
	if p.i < len(b) && b[p.i] == 'n' {
		if err := p.literal("null"); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if p.i >= len(b) || b[p.i] != '{' {
		return nil, errSyntax
	}
	v, err := p.object(r, 0)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// jsonParser reads JSON values from b at i.
type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return errSyntax
	}
	p.i += len(word)
	return nil
}

// value reads one value; with r set, objects in it are scrubbed as Scrub would.
func (p *jsonParser) value(r *Redactor, depth int) (any, error) {
	p.space()
	if p.i >= len(p.b) {
		return nil, errSyntax
	}
	switch c := p.b[p.i]; {
	case c == '{':
		m, err := p.object(r, depth)
		if err != nil {
			return nil, err
		}
		return m, nil
	case c == '[':
		return p.array(r, depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errSyntax
}

func (p *jsonParser) object(r *Redactor, depth int) (map[string]any, error) {
	if depth++; depth > maxJSONDepth {
		return nil, errSyntax
	}
	p.i++ // '{'
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, errSyntax
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, errSyntax
		}
		p.i++
		sensitive := r != nil && Sensitive(k)
		scrub := r
		if sensitive {
			scrub = nil // the value is hashed whole, as Scrub does
		}
		v, err := p.value(scrub, depth)
		if err != nil {
			return nil, err
		}
		if sensitive {
			v = r.hashValue(v)
		}
		m[k] = v
		done, err := p.next('}')
		if err != nil {
			return nil, err
		}
		if done {
			return m, nil
		}
	}
}

// next reads what follows a member or an element: a comma (more to come)
// or the closing bracket (done).
func (p *jsonParser) next(closing byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.b) {
		return false, errSyntax
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, errSyntax
}

func (p *jsonParser) array(r *Redactor, depth int) ([]any, error) {
	if depth++; depth > maxJSONDepth {
		return nil, errSyntax
	}
	p.i++ // '['
	out := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		v, err := p.value(r, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		done, err := p.next(']')
		if err != nil {
			return nil, err
		}
		if done {
			return out, nil
		}
	}
}

// str reads a string. Plain strings (no escape, valid UTF-8) are copied as they are;
// the others are left to encoding/json, for its exact treatment of escapes, surrogates
// and invalid bytes.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // '"'
	plain := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if plain {
				return string(p.b[start+1 : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", errSyntax
			}
			return s, nil
		case c == '\\':
			plain = false
			p.i += 2
		case c < 0x20:
			return "", errSyntax
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n == 1 {
				plain = false
			}
			p.i += n
		default:
			p.i++
		}
	}
	return "", errSyntax
}

// number reads a number in JSON's grammar as a json.Number.
func (p *jsonParser) number() (json.Number, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case digits() == 0:
		return "", errSyntax
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", errSyntax
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", errSyntax
		}
	}
	return json.Number(p.b[start:p.i]), nil
}
