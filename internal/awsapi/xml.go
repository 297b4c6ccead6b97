package awsapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Namespaces of the Query services.
const (
	NamespaceSTS = "https://sts.amazonaws.com/doc/2011-06-15/"
	NamespaceIAM = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// Time is a timestamp in the ISO 8601 form the Query protocol uses
// ("2026-11-25T19:30:05Z").
type Time time.Time

// String is the timestamp as UTC with second precision, as the Query protocol writes it.
func (t Time) String() string { return time.Time(t).UTC().Format("2006-01-02T15:04:05Z") }

// MarshalXML writes the timestamp as UTC with second precision.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.String(), start)
}

// MarshalJSON writes the timestamp as String does, as a JSON string: the response
// elements of audit records are a result's JSON encoding.
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(make([]byte, 0, 22), t.String()), nil
}

// Members is a list serialised the Query way: <Name><member>…</member></Name>.
// Unlike a plain slice it writes the empty wrapper for an empty list, so
// clients see [] rather than a missing key.
type Members[T any] []T

// MarshalXML writes each element as <member>.
func (m Members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeWrapped(e, start, m, "member")
}

// encodeWrapped writes items inside start, each as an element named item.
func encodeWrapped[T any](e *xml.Encoder, start xml.StartElement, items []T, item string) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range items {
		if err := e.EncodeElement(items[i], xml.StartElement{Name: xml.Name{Local: item}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Entries is a map serialised the Query way:
// <Name><entry><key>k</key><value>v</value></entry></Name>.
type Entries []Entry

// Entry is one key/value of Entries.
type Entry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// MarshalXML writes each element as <entry>.
func (m Entries) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeWrapped(e, start, m, "entry")
}

// xmlEncoder is an XML encoder with the buffer it writes to, kept in a pool:
// xml.NewEncoder allocates a 4 KiB buffer of its own.
type xmlEncoder struct {
	buf bytes.Buffer
	enc *xml.Encoder
}

var xmlEncoders sync.Pool // of *xmlEncoder

// EncodeQuery renders a Query-protocol response:
//
//	<ActionResponse xmlns="ns"><ActionResult>…</ActionResult>
//	<ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></ActionResponse>
//
// result may be nil for operations whose output has no members.
func EncodeQuery(ns, action string, result any, requestID string) ([]byte, error) {
	b := make([]byte, 0, 2048)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<"...)
	b = append(b, action...)
	b = append(b, `Response xmlns="`...)
	b = append(b, ns...)
	b = append(b, `">`...)
	if a, ok := result.(XMLAppender); ok {
		b = a.AppendXML(b, action+"Result")
	} else if result != nil {
		x, _ := xmlEncoders.Get().(*xmlEncoder)
		if x == nil {
			x = &xmlEncoder{}
			x.enc = xml.NewEncoder(&x.buf)
		}
		x.buf.Reset()
		if err := x.enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err // x is dropped: an encoder that failed may hold state
		}
		if err := x.enc.Flush(); err != nil {
			return nil, err
		}
		b = append(b, x.buf.Bytes()...)
		if x.buf.Cap() <= 64<<10 {
			xmlEncoders.Put(x)
		}
	}
	b = append(b, "<ResponseMetadata>"...)
	b = AppendElement(b, "RequestId", requestID)
	b = append(b, "</ResponseMetadata></"...)
	b = append(b, action...)
	return append(b, "Response>"...), nil
}

// XMLAppender is a result that writes itself: AppendXML appends to b the
// element name holding the result, byte for byte what encoding/xml writes
// for it (the results of the calls on every CI job's path, which would
// otherwise spend more time in encoding/xml's reflection than in their
// own work). A test of each implementation compares the two.
type XMLAppender interface {
	AppendXML(b []byte, name string) []byte
}

// AppendElement appends <name>text</name>, text escaped as encoding/xml
// escapes character data.
func AppendElement(b []byte, name, text string) []byte {
	return AppendEnd(appendEscaped(AppendStart(b, name), text), name)
}

// AppendStart appends the start tag <name>.
func AppendStart(b []byte, name string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	return append(b, '>')
}

// AppendEnd appends the end tag </name>.
func AppendEnd(b []byte, name string) []byte {
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendEscaped appends s as encoding/xml writes character data: as it
// is when it is printable ASCII without markup, else through
// xml.EscapeText.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' {
			var e bytes.Buffer
			_ = xml.EscapeText(&e, []byte(s))
			return append(b, e.Bytes()...)
		}
	}
	return append(b, s...)
}

// WriteQuery sends a Query-protocol response.
func WriteQuery(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// WriteQueryError sends e as a Query-protocol error document:
//
//	<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>…</Code>
//	<Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
func WriteQueryError(w http.ResponseWriter, ns string, e *Error, requestID string) {
	var b bytes.Buffer
	typ := "Receiver"
	if e.Sender() {
		typ = "Sender"
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ErrorResponse xmlns="` + ns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&b, []byte(e.QueryCode()))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message></Error><RequestId>")
	xml.EscapeText(&b, []byte(requestID))
	b.WriteString("</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(e.Status())
	_, _ = w.Write(b.Bytes())
}
