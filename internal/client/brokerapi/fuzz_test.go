package brokerapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDecodeError: any error answer decodes to a one-line Error without
// panicking, with a code.
func FuzzDecodeError(f *testing.F) {
	f.Add(400, `{"__type":"com.amazonaws#ExpiredTokenException","message":"the session was revoked"}`, "")
	f.Add(403, `{"__type":"AccessDeniedException","Message":"no"}`, "AccessDeniedException:http://internal.amazon.com/")
	f.Add(404, `not json`, "")
	f.Add(500, ``, "")
	f.Add(400, `{"__type":1}`, "X:y")
	f.Fuzz(func(t *testing.T, status int, body, header string) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		resp.Header.Set("X-Amzn-Errortype", header)
		e := decodeError(resp, []byte(body))
		if e.Code == "" {
			t.Fatalf("no code for %d %q", status, body)
		}
		if strings.ContainsAny(e.Message, "\n\r") || len(e.Message) > 400 {
			t.Fatalf("message not one short line: %q", e.Message)
		}
	})
}

// FuzzEpochTime: epoch seconds decode without panicking, and what decodes
// encodes back to the same second.
func FuzzEpochTime(f *testing.F) {
	for _, s := range []string{"1795600000", "1795600860.5", "null", "0", "-1", "1e300", `"x"`, "NaN"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e EpochTime
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back EpochTime
		if err := json.Unmarshal(out, &back); err != nil || back.Unix() != e.Unix() {
			t.Fatalf("%s → %s → %v", data, out, back)
		}
		if !e.IsZero() && bytes.Equal(out, []byte("null")) {
			t.Fatalf("%s: non-zero time encoded as null", data)
		}
	})
}
