package awsapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentTypeJSON11 is the media type of JSON 1.1 requests and responses.
const ContentTypeJSON11 = "application/x-amz-json-1.1"

// WriteJSON sends a JSON 1.1 response body (already encoded).
func WriteJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// The member that carries the message of a JSON 1.1 error. Services differ:
// Secrets Manager sends "Message"; others, and the broker's own shortfuse
// API, send "message". The SDKs read either (botocore: message, then
// Message; aws-sdk-go-v2: either, case-insensitively; JS SDK v3: message,
// then Message).
const (
	MessageKeyLower = "message"
	MessageKeyUpper = "Message"
)

// WriteJSONError sends e as a JSON 1.1 error: {"__type": code, key: message},
// key being MessageKeyLower or MessageKeyUpper.
func WriteJSONError(w http.ResponseWriter, e *Error, key string) {
	if key != MessageKeyUpper {
		key = MessageKeyLower
	}
	typ, _ := json.Marshal(e.JSONCode())
	msg, _ := json.Marshal(e.Message)
	body := []byte(`{"__type":` + string(typ) + `,"` + key + `":` + string(msg) + `}`)
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("X-Amzn-Errortype", e.JSONCode())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.JSONStatus())
	_, _ = w.Write(body)
}
