package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a token's claims or a JWKS document.
const maxJSONDepth = 16

// decodeObject decodes a JSON object strictly: valid UTF-8, no key given
// twice in any object, nesting at most maxJSONDepth, nothing after the
// value. Numbers are kept as json.Number. encoding/json alone keeps the last
// of two equal keys and replaces invalid UTF-8 silently; either would let the
// broker read a token differently from a stricter reader.
func decodeObject(b []byte) (map[string]any, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	v, err := decodeObjectBody(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, errors.New("JSON nested too deeply")
		}
		switch t {
		case '{':
			return decodeObjectBody(dec, depth+1)
		case '[':
			var out []any
			for {
				tok, err := dec.Token()
				if err != nil {
					return nil, errors.New("invalid JSON")
				}
				if d, ok := tok.(json.Delim); ok && d == ']' {
					if out == nil {
						out = []any{}
					}
					return out, nil
				}
				v, err := decodeValue(dec, tok, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
		return nil, errors.New("invalid JSON")
	default:
		return t, nil
	}
}

func decodeObjectBody(dec *json.Decoder, depth int) (map[string]any, error) {
	out := map[string]any{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("invalid JSON")
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return out, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("invalid JSON")
		}
		if _, dup := out[key]; dup {
			return nil, errors.New("a JSON key is given twice")
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, errors.New("invalid JSON")
		}
		v, err := decodeValue(dec, tok, depth)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
}
