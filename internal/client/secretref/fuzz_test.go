package secretref

import (
	"strings"
	"testing"
)

// FuzzExtract: a secret value from the network never panics the JSON-key
// extraction, and errors never quote the value.
func FuzzExtract(f *testing.F) {
	f.Add(`{"user":"app","password":"hunter2"}`, "password")
	f.Add(`{"a":1,"a":2}`, "a")
	f.Add(`{"n":null,"o":{"x":[1]}}`, "o")
	f.Add(`[1,2]`, "k")
	f.Add(`{"k":"v"} trailing`, "k")
	f.Add("not json hunter2", "k")
	f.Fuzz(func(t *testing.T, value, key string) {
		if key == "" {
			t.Skip()
		}
		_, err := extract(raw{str: &value}, key)
		if err == nil {
			return
		}
		msg := strings.ReplaceAll(err.Error(), key, "")
		if len(value) >= 8 && strings.Contains(msg, value) {
			t.Fatalf("error quotes the value: %v", err)
		}
	})
}
