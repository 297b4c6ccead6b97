package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shortfuse/shortfuse/internal/audit"
)

func ExampleRedactor_Scrub() {
	red := audit.NewRedactor(bytes.Repeat([]byte{7}, 32)) // the broker's audit key
	params := red.Scrub(map[string]any{
		"SecretId":     "/prod/db",
		"SecretString": "hunter2",
	})
	fmt.Println(params["SecretId"])
	fmt.Println(params["SecretString"] == red.Hash([]byte("hunter2")))
	// Output:
	// /prod/db
	// true
}

func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")

	w, err := audit.Open(path, audit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"GetSessionToken", "GetSecretValue"} {
		err := w.Append(context.Background(), &audit.Record{EventSource: audit.SourceSTS, EventName: name})
		if err != nil {
			fmt.Println(err) // the request must be refused
			return
		}
	}
	w.Close()

	res, err := audit.Verify(path)
	fmt.Println(res.OK, res.Records, err)
	// Output: true 2 <nil>
}
