package seal_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/shortfuse/shortfuse/internal/seal"
)

func Example() {
	dir, _ := os.MkdirTemp("", "seal-example")
	defer os.RemoveAll(dir)

	// First start: the master key file is created (0600).
	master, created, err := seal.LoadOrCreateKeyFile(filepath.Join(dir, "master.key"), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", created, "key:", master)

	// A data key, stored wrapped beside the records.
	dk, _ := seal.NewDataKey(rand.Reader, 1)
	wrapped, _ := master.Wrap(dk, rand.Reader)

	// Later, or on another replica: unwrap and seal a secret bound to its record.
	dk, err = master.Unwrap(1, wrapped)
	if err != nil {
		log.Fatal(err)
	}
	s, _ := seal.NewSealer(rand.Reader, dk)
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-AbCdEf"
	ct, _ := s.Seal([]byte("hunter2"), seal.AAD("secret-version", arn, "v1"))

	pt, err := s.Open(ct, seal.AAD("secret-version", arn, "v1"))
	fmt.Printf("%s %v\n", pt, err)

	// The same ciphertext moved to another version does not open.
	_, err = s.Open(ct, seal.AAD("secret-version", arn, "v2"))
	fmt.Println(err)
	// Output:
	// created: true key: [redacted]
	// hunter2 <nil>
	// seal: cannot open ciphertext
}
