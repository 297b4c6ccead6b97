package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Parse reads a policy document of the given kind, validates it and compiles it for
// evaluation. Any refusal is a *MalformedError.
//
// The document is read as a stream of JSON tokens, not unmarshalled into structs, so
// that duplicate keys (at any level), elements in the wrong case, unknown elements,
// values of the wrong type and trailing data are all refused rather than silently
// resolved. See the package documentation for the full list of rules.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	switch kind {
	case KindIdentity, KindResource, KindTrust:
	default:
		return nil, malformed("unknown policy kind %d", int(kind))
	}
	if len(doc) > MaxDocumentSize {
		return nil, malformed("policy document is %d bytes, more than the limit of %d", len(doc), MaxDocumentSize)
	}
	if !utf8.Valid(doc) {
		return nil, malformed("policy document is not valid UTF-8")
	}
	if !json.Valid(doc) {
		// IAM's words for a document that is not one JSON value (a syntax
		// error, truncation, trailing data).
		return nil, malformed(MsgInvalidJSON)
	}
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(doc))}
	d.dec.UseNumber()
	p, err := d.policy()
	if err != nil {
		return nil, err
	}
	if err := compilePolicy(p, kind); err != nil {
		return nil, err
	}
	return p, nil
}

// MsgInvalidJSON is the message of the MalformedPolicyDocument error for a
// document that is not JSON, as IAM words it.
const MsgInvalidJSON = "This policy contains invalid Json"

func malformed(format string, args ...any) *MalformedError {
	return &MalformedError{Msg: fmt.Sprintf(format, args...)}
}

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// decoder reads the token stream of one policy document.
type decoder struct {
	dec *json.Decoder
}

func (d *decoder) token(path string) (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, malformed("%s: unexpected end of document", where(path))
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, malformed("invalid JSON at byte %d: %s", se.Offset, se.Error())
		}
		return nil, malformed("invalid JSON: %s", err.Error())
	}
	if s, ok := tok.(string); ok {
		if err := checkText(s); err != nil {
			return nil, malformed("%s: %s", where(path), err.Error())
		}
	}
	return tok, nil
}

func where(path string) string {
	if path == "" {
		return "policy"
	}
	return path
}

// checkText refuses control characters and U+FFFD in any decoded string. The document is
// valid UTF-8, so U+FFFD can only come from a lone surrogate escape ("\ud800") that the
// JSON decoder replaced, or from an author who pasted one: both are refused rather than
// compared as a stand-in character.
func checkText(s string) error {
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("control character U+%04X in string", r)
		case r == utf8.RuneError:
			return errors.New("invalid character U+FFFD (or a lone surrogate escape) in string")
		}
	}
	return nil
}

func typeName(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "'" + v.String() + "'"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// object reads the members of an object whose '{' has been read, calling member for each
// key. Duplicate keys are refused, including keys that differ only by escapes.
func (d *decoder) object(path string, member func(key, path string) error) error {
	seen := make(map[string]bool)
	for {
		tok, err := d.token(path)
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return malformed("%s: want a key, got %s", where(path), typeName(tok))
		}
		if seen[key] {
			return malformed("%s: duplicate key %s", where(path), quote(key))
		}
		seen[key] = true
		if err := member(key, join(path, key)); err != nil {
			return err
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	if isIdent(key) {
		return path + "." + key
	}
	return path + "[" + quote(key) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (d *decoder) openObject(path string) error {
	tok, err := d.token(path)
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return malformed("%s: want an object, got %s", where(path), typeName(tok))
	}
	return nil
}

func (d *decoder) str(path string) (string, error) {
	tok, err := d.token(path)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", malformed("%s: want a string, got %s", where(path), typeName(tok))
	}
	return s, nil
}

// strings reads a string or a non-empty array of strings. With scalars, numbers and
// booleans are accepted too and kept as their JSON text (condition values).
func (d *decoder) strings(path string, scalars bool) ([]string, error) {
	tok, err := d.token(path)
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('[') {
		var out []string
		for i := 0; ; i++ {
			elem := fmt.Sprintf("%s[%d]", path, i)
			tok, err := d.token(elem)
			if err != nil {
				return nil, err
			}
			if tok == json.Delim(']') {
				break
			}
			s, err := scalar(tok, elem, scalars)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, malformed("%s: must not be an empty array", path)
		}
		return out, nil
	}
	s, err := scalar(tok, path, scalars)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalar(tok json.Token, path string, scalars bool) (string, error) {
	switch v := tok.(type) {
	case string:
		return v, nil
	case json.Number:
		if scalars {
			return v.String(), nil
		}
	case bool:
		if scalars {
			return strconv.FormatBool(v), nil
		}
	}
	if scalars {
		return "", malformed("%s: want a string, number or boolean, got %s", path, typeName(tok))
	}
	return "", malformed("%s: want a string, got %s", path, typeName(tok))
}

// policy reads the whole document.
func (d *decoder) policy() (*Policy, error) {
	if err := d.openObject(""); err != nil {
		return nil, err
	}
	p := &Policy{}
	var haveVersion, haveStatement bool
	err := d.object("", func(key, path string) error {
		var err error
		switch key {
		case "Version":
			haveVersion = true
			p.Version, err = d.str(path)
		case "Id":
			p.ID, err = d.str(path)
		case "Statement":
			haveStatement = true
			p.Statements, err = d.statements(path)
		default:
			err = malformed("unknown element %s", quote(key))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Trailing data: only whitespace may follow the document.
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("trailing data after the policy document")
	}
	if !haveStatement {
		return nil, malformed("missing element \"Statement\"")
	}
	if !haveVersion {
		p.Version = Version2008
	}
	return p, nil
}

func (d *decoder) statements(path string) ([]Statement, error) {
	tok, err := d.token(path)
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		s, err := d.statement("Statement[0]")
		if err != nil {
			return nil, err
		}
		return []Statement{s}, nil
	case json.Delim('['):
		var out []Statement
		for i := 0; ; i++ {
			spath := fmt.Sprintf("Statement[%d]", i)
			tok, err := d.token(spath)
			if err != nil {
				return nil, err
			}
			if tok == json.Delim(']') {
				break
			}
			if tok != json.Delim('{') {
				return nil, malformed("%s: want an object, got %s", spath, typeName(tok))
			}
			s, err := d.statement(spath)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, malformed("Statement: must not be an empty array")
		}
		return out, nil
	}
	return nil, malformed("Statement: want an object or an array, got %s", typeName(tok))
}

// statement reads one statement whose '{' has been read.
func (d *decoder) statement(spath string) (Statement, error) {
	var s Statement
	var haveEffect bool
	err := d.object(spath, func(key, path string) error {
		var err error
		switch key {
		case "Sid":
			s.Sid, err = d.str(path)
		case "Effect":
			haveEffect = true
			s.Effect, err = d.str(path)
		case "Principal":
			s.Principal, err = d.principals(path)
		case "NotPrincipal":
			s.NotPrincipal, err = d.principals(path)
		case "Action":
			s.Action, err = d.strings(path, false)
		case "NotAction":
			s.NotAction, err = d.strings(path, false)
		case "Resource":
			s.Resource, err = d.strings(path, false)
		case "NotResource":
			s.NotResource, err = d.strings(path, false)
		case "Condition":
			s.Conditions, err = d.conditions(path)
		default:
			err = malformed("%s: unknown element %s", spath, quote(key))
		}
		return err
	})
	if err != nil {
		return Statement{}, err
	}
	if !haveEffect {
		return Statement{}, malformed("%s: missing element \"Effect\"", spath)
	}
	return s, nil
}

func (d *decoder) principals(path string) (*Principals, error) {
	tok, err := d.token(path)
	if err != nil {
		return nil, err
	}
	switch tok {
	case "*":
		return &Principals{Any: true}, nil
	case json.Delim('{'):
	default:
		if s, ok := tok.(string); ok {
			return nil, malformed("%s: a string principal must be \"*\", got %s; use {\"AWS\": ...}", path, quote(s))
		}
		return nil, malformed("%s: want \"*\" or an object, got %s", path, typeName(tok))
	}
	p := &Principals{}
	n := 0
	err = d.object(path, func(key, mpath string) error {
		var err error
		var vals []string
		switch key {
		case "AWS", "CanonicalUser", "Federated", "Service":
			vals, err = d.strings(mpath, false)
		default:
			return malformed("%s: unknown principal type %s (want AWS, CanonicalUser, Federated or Service)", path, quote(key))
		}
		switch key {
		case "AWS":
			p.AWS = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		case "Federated":
			p.Federated = vals
		case "Service":
			p.Service = vals
		}
		n++
		return err
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("%s: must name at least one principal", path)
	}
	return p, nil
}

func (d *decoder) conditions(path string) ([]Condition, error) {
	if err := d.openObject(path); err != nil {
		return nil, err
	}
	out := []Condition{}
	err := d.object(path, func(op, opath string) error {
		if err := d.openObject(opath); err != nil {
			return err
		}
		n := 0
		err := d.object(opath, func(key, kpath string) error {
			vals, err := d.strings(kpath, true)
			if err != nil {
				return err
			}
			out = append(out, Condition{Operator: op, Key: key, Values: vals})
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if n == 0 {
			return malformed("%s: must name at least one condition key", opath)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
