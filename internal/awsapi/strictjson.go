package awsapi

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// MaxJSONDepth bounds the nesting of arrays and objects in a JSON 1.1
// request body. The deepest Secrets Manager input (Filters[].Values[]) has
// three levels; the margin is for free-form members.
const MaxJSONDepth = 32

// DecodeJSON decodes a JSON 1.1 request body into v, a pointer to the
// operation's input struct, refusing what encoding/json would resolve
// silently (docs/SECURITY.md: a lenient parser read differently from what was checked):
//
//   - invalid JSON, invalid UTF-8 (raw, or a lone UTF-16 surrogate escape),
//     a raw control character in a string, nesting deeper than
//     MaxJSONDepth, and anything but whitespace after the value:
//     SerializationException;
//   - a key given twice in one object, at any depth (encoding/json keeps the
//     last): SerializationException;
//   - a value of the wrong JSON type for its member: SerializationException;
//   - a member the input struct does not have, including one whose name
//     differs from the struct's json tag only by case (encoding/json
//     matches names case-insensitively): ValidationException.
//
// It is the decoder of the broker's own API (shortfuse), whose clients
// ship with the broker. AWS APIs use DecodeAWSJSON.
//
// An empty body decodes as {}, as AWS services accept it. JSON null leaves a
// member at its zero value. Members of a type that decodes itself
// (json.Unmarshaler, encoding.TextUnmarshaler), interface and map members
// are checked for syntax and duplicate keys only.
//
// Errors are *Error. Their messages name the member's path (Filters[0].Key)
// and never quote a value from the body, which may be secret.
func DecodeJSON(body []byte, v any) error {
	return decodeJSON(body, v, false)
}

// DecodeAWSJSON is DecodeJSON for the AWS APIs (Secrets Manager), with one
// difference: a member the input struct does not have at all is ignored,
// as AWS services ignore members they do not know (an SDK newer than the
// broker's service model sends them). Its value is still checked for
// syntax and duplicate keys, and a member whose name differs from a known
// one only by letter case is still refused (encoding/json would take it
// for that member; AWS would not). The paths of the ignored members
// (Filters[0].Extra) go to the hook set with SetUnknownMembersHook.
func DecodeAWSJSON(body []byte, v any) error {
	return decodeJSON(body, v, true)
}

func decodeJSON(body []byte, v any, ignoreUnknown bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("awsapi: DecodeJSON needs a non-nil pointer")
	}
	d := &jsonChecker{data: body, ignoreUnknown: ignoreUnknown}
	d.skipSpace()
	if d.pos == len(d.data) {
		body = []byte("{}")
		d = &jsonChecker{data: body}
	}
	if !utf8.Valid(body) {
		return Errorf(CodeSerialization, "the request body is not valid UTF-8")
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] != '{' {
		return Errorf(CodeSerialization, "the request body must be a JSON object")
	}
	if err := d.value(rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return Errorf(CodeSerialization, "unexpected data after the JSON object at offset %d", d.pos)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return unmarshalError(err)
	}
	if len(d.unknown) > 0 {
		if h := unknownMembersHook.Load(); h != nil {
			(*h)(d.unknown)
		}
	}
	return nil
}

// unknownMembersHook receives the member paths DecodeAWSJSON ignored.
var unknownMembersHook atomic.Pointer[func(paths []string)]

// SetUnknownMembersHook sets the function DecodeAWSJSON calls, after a
// successful decode, with the paths of the members it ignored (names made
// printable and cut to 64 bytes; never a value). The broker counts them in
// a metric and logs them at debug level. nil removes the hook.
func SetUnknownMembersHook(f func(paths []string)) {
	if f == nil {
		unknownMembersHook.Store(nil)
		return
	}
	unknownMembersHook.Store(&f)
}

// unmarshalError is the client-safe form of an encoding/json error.
func unmarshalError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the request"
		}
		return Errorf(CodeSerialization, "cannot decode %s: the value is not a valid %s", fault.Printable(field, 64), jsonTypeName(te.Type))
	}
	// A type's own UnmarshalJSON (base64 of a blob, a number out of
	// range) failed. Its text may quote the value: it is not sent.
	return Errorf(CodeSerialization, "a member of the request has a value that cannot be decoded")
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether encoding/json hands values of t to the
// type's own decoder.
func decodesItself(t reflect.Type) bool {
	if t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) {
		return true
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer in range"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64 blob"
		}
		return "list"
	case reflect.Struct, reflect.Map:
		return "structure"
	}
	return "value"
}

// structFields maps the exact JSON member names of a struct type to their
// field types, as encoding/json sees them (tags, promoted fields of
// embedded structs, "-" skipped).
var structFieldsCache sync.Map // reflect.Type → map[string]reflect.Type

func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := structFieldsCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type)
	depth := make(map[string]int)
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are visited as promoted fields
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		// The shallowest field wins, as in encoding/json.
		if d, ok := depth[name]; ok && d <= len(f.Index) {
			continue
		}
		depth[name] = len(f.Index)
		m[name] = f.Type
	}
	structFieldsCache.Store(t, m)
	return m
}

// jsonChecker walks a JSON text, checking it against the Go type it will be
// decoded into. It only reads; encoding/json does the decoding once the
// text has passed.
type jsonChecker struct {
	data []byte
	pos  int
	// ignoreUnknown: skip members the struct does not have (DecodeAWSJSON),
	// recording their paths in unknown.
	ignoreUnknown bool
	unknown       []string
}

func (d *jsonChecker) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonChecker) syntax(what string) *Error {
	if d.pos >= len(d.data) {
		return Errorf(CodeSerialization, "the request body ends before the JSON value does (%s)", what)
	}
	return Errorf(CodeSerialization, "malformed JSON at offset %d: %s", d.pos, what)
}

func pathString(path string) string {
	if path == "" {
		return "the request"
	}
	return fault.Printable(path, 64)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// value checks one JSON value that decodes into t (nil: any type).
func (d *jsonChecker) value(t reflect.Type, path string, depth int) error {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return d.syntax("a value is missing")
	}
	for t != nil && t.Kind() == reflect.Pointer {
		if decodesItself(t) {
			break
		}
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || decodesItself(t)) {
		t = nil // any JSON value; encoding/json or the type decides
	}
	c := d.data[d.pos]
	if c == 'n' {
		return d.literal("null")
	}
	switch c {
	case '{':
		if depth >= MaxJSONDepth {
			return Errorf(CodeSerialization, "the request nests deeper than %d levels", MaxJSONDepth)
		}
		var fields map[string]reflect.Type
		var elem reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Struct:
			fields = structFields(t)
		case t.Kind() == reflect.Map:
			elem = t.Elem()
		default:
			return Errorf(CodeSerialization, "cannot decode %s: a structure was given where a %s is expected", pathString(path), jsonTypeName(t))
		}
		return d.object(t, fields, elem, path, depth+1)
	case '[':
		if depth >= MaxJSONDepth {
			return Errorf(CodeSerialization, "the request nests deeper than %d levels", MaxJSONDepth)
		}
		var elem reflect.Type
		if t != nil {
			if (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) || t.Elem().Kind() == reflect.Uint8 {
				return Errorf(CodeSerialization, "cannot decode %s: a list was given where a %s is expected", pathString(path), jsonTypeName(t))
			}
			elem = t.Elem()
		}
		return d.array(elem, path, depth+1)
	case '"':
		if t != nil && t.Kind() != reflect.String && !(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8) {
			return Errorf(CodeSerialization, "cannot decode %s: a string was given where a %s is expected", pathString(path), jsonTypeName(t))
		}
		_, err := d.str()
		return err
	case 't', 'f':
		if t != nil && t.Kind() != reflect.Bool {
			return Errorf(CodeSerialization, "cannot decode %s: a boolean was given where a %s is expected", pathString(path), jsonTypeName(t))
		}
		if c == 't' {
			return d.literal("true")
		}
		return d.literal("false")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			if t != nil {
				switch t.Kind() {
				case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
					reflect.Float32, reflect.Float64:
				default:
					return Errorf(CodeSerialization, "cannot decode %s: a number was given where a %s is expected", pathString(path), jsonTypeName(t))
				}
			}
			return d.number()
		}
		return d.syntax("unexpected character")
	}
}

func (d *jsonChecker) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.syntax("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// object checks an object; fields is set for a struct, elem for a map, and
// neither for a free-form value.
func (d *jsonChecker) object(t reflect.Type, fields map[string]reflect.Type, elem reflect.Type, path string, depth int) error {
	d.pos++ // '{'
	seen := make(map[string]struct{})
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.syntax("an object key is expected")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if _, dup := seen[key]; dup {
			return Errorf(CodeSerialization, "cannot decode %s: member %q is given more than once", pathString(path), fault.Printable(key, 64))
		}
		seen[key] = struct{}{}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.syntax("':' is expected after an object key")
		}
		d.pos++
		var vt reflect.Type
		switch {
		case fields != nil:
			ft, ok := fields[key]
			if !ok {
				if err := caseVariant(fields, key, path); err != nil {
					return err
				}
				if !d.ignoreUnknown {
					return unknownMember(t, key, path)
				}
				d.unknown = append(d.unknown, fault.Printable(joinPath(path, key), 64))
			}
			vt = ft // nil for an ignored member: any value
		case elem != nil:
			vt = elem
		}
		if err := d.value(vt, joinPath(path, key), depth); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.syntax("the object is not closed")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.syntax("',' or '}' is expected in an object")
		}
	}
}

// unknownMember is DecodeJSON's error for a key the struct does not have.
func unknownMember(t reflect.Type, key, path string) error {
	where := pathString(path)
	if t != nil && path == "" {
		where = "the input"
	}
	return Errorf(CodeValidation, "1 validation error detected: %s has no member %q", where, fault.Printable(key, 64))
}

// caseVariant refuses a key the struct does not have that differs from one
// of its members only by case: encoding/json would take it for the member,
// so ignoring it is not possible, and honouring it would read a request
// differently from AWS.
func caseVariant(fields map[string]reflect.Type, key, path string) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return Errorf(CodeValidation, "1 validation error detected: member %q of %s is not spelled as the API spells it (%q); member names are case-sensitive", fault.Printable(key, 64), pathString(path), name)
		}
	}
	return nil
}

func (d *jsonChecker) array(elem reflect.Type, path string, depth int) error {
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := d.value(elem, path+"["+strconv.Itoa(i)+"]", depth); err != nil {
			return err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.syntax("the list is not closed")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.syntax("',' or ']' is expected in a list")
		}
	}
}

// number checks the JSON number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonChecker) number() error {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return d.syntax("invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return d.syntax("invalid number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return d.syntax("invalid number")
		}
	}
	if d.pos-start > 64 {
		d.pos = start
		return d.syntax("number too long")
	}
	return nil
}

// str reads a string and returns its decoded value. Raw control
// characters, invalid UTF-8, unknown escapes and lone surrogates are
// refused (encoding/json would turn the last two into U+FFFD).
func (d *jsonChecker) str() (string, error) {
	d.pos++ // opening quote
	var b strings.Builder
	for {
		if d.pos >= len(d.data) {
			return "", d.syntax("the string is not closed")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return b.String(), nil
		case c < 0x20:
			return "", d.syntax("control character in a string")
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				return "", d.syntax("the string is not closed")
			}
			e := d.data[d.pos]
			d.pos++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.syntax("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one is a
					// character.
					if r >= 0xdc00 || d.pos+1 >= len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
						return "", d.syntax("lone UTF-16 surrogate in a \\u escape")
					}
					d.pos += 2
					r2, ok := d.hex4()
					if !ok {
						return "", d.syntax("invalid \\u escape")
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", d.syntax("lone UTF-16 surrogate in a \\u escape")
					}
				}
				b.WriteRune(r)
			default:
				return "", d.syntax("invalid escape in a string")
			}
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", d.syntax("invalid UTF-8 in a string")
			}
			b.Write(d.data[d.pos : d.pos+size])
			d.pos += size
		}
	}
}

func (d *jsonChecker) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}
