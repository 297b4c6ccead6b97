package audit

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendRecord appends to b what json.Marshal writes for r, byte for byte, without
// reflection: every record is encoded once, in the request's goroutine. Values of the
// free-form maps that are not JSON's own (after normalize, rare) go through json.Marshal.
// FuzzEncodeRecord compares the two.
func appendRecord(b []byte, r *Record) ([]byte, error) {
	var err error
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, r.EventVersion)
	b = append(b, `,"eventTime":`...)
	if b, err = appendTime(b, r.EventTime); err != nil {
		return nil, err
	}
	b = append(b, `,"eventSource":`...)
	b = appendString(b, r.EventSource)
	b = append(b, `,"eventName":`...)
	b = appendString(b, r.EventName)
	b = append(b, `,"awsRegion":`...)
	b = appendString(b, r.AWSRegion)
	b = append(b, `,"sourceIPAddress":`...)
	b = appendString(b, r.SourceIPAddress)
	b = append(b, `,"userAgent":`...)
	b = appendString(b, r.UserAgent)
	if u := r.UserIdentity; u != nil {
		b = append(b, `,"userIdentity":`...)
		if b, err = appendIdentity(b, u); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"requestParameters":`...)
	if b, err = appendAny(b, r.RequestParameters); err != nil {
		return nil, err
	}
	b = append(b, `,"responseElements":`...)
	if b, err = appendAny(b, r.ResponseElements); err != nil {
		return nil, err
	}
	b = appendOptString(b, `,"errorCode":`, r.ErrorCode)
	b = appendOptString(b, `,"errorMessage":`, r.ErrorMessage)
	b = append(b, `,"requestID":`...)
	b = appendString(b, r.RequestID)
	b = append(b, `,"eventID":`...)
	b = appendString(b, r.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, r.ReadOnly)
	b = append(b, `,"eventType":`...)
	b = appendString(b, r.EventType)
	b = append(b, `,"recipientAccountId":`...)
	b = appendString(b, r.RecipientAccountID)
	b = appendOptString(b, `,"phase":`, r.Phase)
	if len(r.Decisions) > 0 {
		b = append(b, `,"decisions":[`...)
		for i, d := range r.Decisions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"action":`...)
			b = appendString(b, d.Action)
			b = append(b, `,"resource":`...)
			b = appendString(b, d.Resource)
			b = append(b, `,"decision":`...)
			b = appendString(b, d.Decision)
			b = appendOptString(b, `,"policyId":`, d.PolicyID)
			b = append(b, `,"statementIndex":`...)
			b = strconv.AppendInt(b, int64(d.StatementIndex), 10)
			b = appendOptString(b, `,"sid":`, d.Sid)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"prevHash":`...)
	b = appendString(b, r.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendString(b, r.Hash)
	return append(b, '}'), nil
}

func appendIdentity(b []byte, u *UserIdentity) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	b = appendOptString(b, `,"principalId":`, u.PrincipalID)
	b = appendOptString(b, `,"arn":`, u.ARN)
	b = appendOptString(b, `,"accountId":`, u.AccountID)
	b = appendOptString(b, `,"accessKeyId":`, u.AccessKeyID)
	b = appendOptString(b, `,"userName":`, u.UserName)
	if sc := u.SessionContext; sc != nil {
		b = append(b, `,"sessionContext":{`...)
		if si := sc.SessionIssuer; si != nil {
			b = append(b, `"sessionIssuer":{"type":`...)
			b = appendString(b, si.Type)
			b = appendOptString(b, `,"principalId":`, si.PrincipalID)
			b = appendOptString(b, `,"arn":`, si.ARN)
			b = appendOptString(b, `,"accountId":`, si.AccountID)
			b = appendOptString(b, `,"userName":`, si.UserName)
			b = append(b, `},`...)
		}
		b = append(b, `"attributes":{"creationDate":`...)
		var err error
		if b, err = appendTime(b, sc.Attributes.CreationDate); err != nil {
			return nil, err
		}
		b = append(b, `,"mfaAuthenticated":`...)
		b = appendString(b, sc.Attributes.MFAAuthenticated)
		b = append(b, '}')
		b = appendOptString(b, `,"sourceIdentity":`, sc.SourceIdentity)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendTime is time.Time's MarshalJSON.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, errors.New("year outside of range [0,9999]")
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString writes s as encoding/json does (HTML characters escaped, invalid UTF-8 as
// U+FFFD): plain ASCII directly, anything else through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s) // a string always encodes
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendAny writes a value of the free-form maps.
func appendAny(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			if b, err = appendAny(b, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		return appendArray(b, v, appendAny)
	case json.Number:
		if v != "" && validNumber(string(v)) {
			return append(b, v...), nil
		}
	case []string:
		return appendArray(b, v, func(b []byte, s string) ([]byte, error) { return appendString(b, s), nil })
	}
	// json.Number (validated), floats, other integer types, map[string]string: as
	// encoding/json writes them.
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// appendArray writes list as a JSON array, each element by elem; a nil
// list is null, as encoding/json writes it.
func appendArray[E any](b []byte, list []E, elem func([]byte, E) ([]byte, error)) ([]byte, error) {
	if list == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// validNumber reports whether s is a number in JSON's grammar.
func validNumber(s string) bool {
	p := jsonParser{b: []byte(s)}
	if _, err := p.number(); err != nil {
		return false
	}
	return p.i == len(s)
}
