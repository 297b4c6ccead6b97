package awsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// QueryFormat is the form of a Query-protocol (STS, IAM) response. AWS
// answers XML, or, to a client that sends Accept: application/json (identity
// verifiers posting a presigned GetCallerIdentity: aws-iam-authenticator,
// Vault's and OpenBao's aws auth method), the same document as JSON:
//
//	{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"…","Arn":"…","UserId":"…"},
//	 "ResponseMetadata":{"RequestId":"…"}}}
//
// and errors as
//
//	{"Error":{"Code":"…","Message":"…","Type":"Sender"},"RequestId":"…"}
type QueryFormat int

// The Query response formats.
const (
	QueryXML QueryFormat = iota
	QueryJSON
)

// QueryFormatOf is the format a request asks for: QueryJSON when its Accept
// header names application/json, QueryXML otherwise (no header, */*,
// text/xml).
func QueryFormatOf(h http.Header) QueryFormat {
	for _, v := range h.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "application/json" {
				return QueryJSON
			}
		}
	}
	return QueryXML
}

// Encode renders a response in the format: EncodeQuery for XML, the JSON
// envelope otherwise. result may be nil for operations whose output has no
// members.
func (f QueryFormat) Encode(ns, action string, result any, requestID string) ([]byte, error) {
	if f != QueryJSON {
		return EncodeQuery(ns, action, result, requestID)
	}
	var b bytes.Buffer
	b.WriteString(`{"` + action + `Response":{`)
	if result != nil {
		b.WriteString(`"` + action + `Result":`)
		if err := writeQueryJSON(&b, reflect.ValueOf(result)); err != nil {
			return nil, err
		}
		b.WriteByte(',')
	}
	b.WriteString(`"ResponseMetadata":{"RequestId":`)
	writeJSONString(&b, requestID)
	b.WriteString("}}}")
	return b.Bytes(), nil
}

// Write sends a response body made by Encode.
func (f QueryFormat) Write(w http.ResponseWriter, body []byte) {
	if f != QueryJSON {
		WriteQuery(w, body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// WriteError sends e in the format, with the Query protocol's status.
func (f QueryFormat) WriteError(w http.ResponseWriter, ns string, e *Error, requestID string) {
	if f != QueryJSON {
		WriteQueryError(w, ns, e, requestID)
		return
	}
	typ := "Receiver"
	if e.Sender() {
		typ = "Sender"
	}
	body, _ := json.Marshal(queryJSONError{Error: queryJSONErrorDetail{e.QueryCode(), e.Message, typ}, RequestId: requestID})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status())
	_, _ = w.Write(body)
}

// queryJSONError is the JSON form of a Query error document.
type queryJSONError struct {
	Error     queryJSONErrorDetail
	RequestId string
}

type queryJSONErrorDetail struct {
	Code    string
	Message string
	Type    string
}

var (
	timeType    = reflect.TypeFor[Time]()
	stdTimeType = reflect.TypeFor[time.Time]()
	entriesType = reflect.TypeFor[Entries]()
	xmlNameType = reflect.TypeFor[xml.Name]()
)

// writeQueryJSON writes v, an XML-tagged result shape, as JSON with the
// member names its XML has: structures become objects, Members lists
// arrays, Entries maps objects, Time epoch seconds. Members that XML omits
// (omitempty) are omitted.
func writeQueryJSON(b *bytes.Buffer, v reflect.Value) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		v = v.Elem()
	}
	switch v.Type() {
	case timeType:
		b.WriteString(strconv.FormatInt(time.Time(v.Interface().(Time)).Unix(), 10))
		return nil
	case stdTimeType:
		b.WriteString(strconv.FormatInt(v.Interface().(time.Time).Unix(), 10))
		return nil
	case entriesType:
		b.WriteByte('{')
		for i, e := range v.Interface().(Entries) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, e.Key)
			b.WriteByte(':')
			writeJSONString(b, e.Value)
		}
		b.WriteByte('}')
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		writeJSONString(b, v.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			writeJSONString(b, base64.StdEncoding.EncodeToString(v.Bytes()))
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeQueryJSON(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case reflect.Struct:
		b.WriteByte('{')
		first := true
		if err := writeQueryJSONFields(b, v, &first); err != nil {
			return err
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("awsapi: no JSON form for a %s in a Query result", v.Type())
	}
	return nil
}

// writeQueryJSONFields writes the members of struct v, those of embedded
// structs inline, as encoding/xml does.
func writeQueryJSONFields(b *bytes.Buffer, v reflect.Value, first *bool) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		if tag == "-" || f.Type == xmlNameType {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := writeQueryJSONFields(b, v.Field(i), first); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if strings.Contains(name, ">") || (opts != "" && opts != "omitempty") {
			return fmt.Errorf("awsapi: xml tag %q of %s has no JSON form", tag, t)
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if opts == "omitempty" && isEmptyXML(fv) {
			continue
		}
		if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface) && fv.IsNil() {
			continue // encoding/xml writes no element for nil
		}
		if !*first {
			b.WriteByte(',')
		}
		*first = false
		writeJSONString(b, name)
		b.WriteByte(':')
		if err := writeQueryJSON(b, fv); err != nil {
			return err
		}
	}
	return nil
}

// isEmptyXML is encoding/xml's test for omitempty.
func isEmptyXML(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
