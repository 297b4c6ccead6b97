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

// WriteJSONError sends e as a JSON 1.1 error: {"__type": code, "message": …}.
func WriteJSONError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.JSONCode(), e.Message})
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("X-Amzn-Errortype", e.JSONCode())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.JSONStatus())
	_, _ = w.Write(body)
}
