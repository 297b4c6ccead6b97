package mask

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchSecrets are 20 values of typical shapes: passwords, keys, a session
// token of realistic length and a multi-line private key.
func benchSecrets() [][]byte {
	var out [][]byte
	for i := 0; i < 17; i++ {
		out = append(out, []byte(fmt.Sprintf("Pa55w0rd!-%02d-xK9#mQ2$", i)))
	}
	out = append(out, []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
	out = append(out, []byte("sfs1."+strings.Repeat("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_", 20)))
	out = append(out, []byte("-----BEGIN KEY-----\n"+strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n", 20)+"-----END KEY-----"))
	return out
}

// benchLog is about 1 MiB of build-log-like text, with a secret every
// matchEvery lines (0: never).
func benchLog(matchEvery int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "[%06d] INFO compiling src/pkg/module_%d.go: 42 files, cache hit ratio 0.93 (took 120ms)\n", i, i%97)
		if matchEvery > 0 && i%matchEvery == 0 {
			fmt.Fprintf(&b, "+ curl -u deploy:Pa55w0rd!-%02d-xK9#mQ2$ https://example.invalid/\n", i%17)
		}
	}
	return b.Bytes()
}

// BenchmarkWriter runs each case with whole values only (the masker
// before fragments) and with fragments of FragmentLen, so that one run
// compares them.
func BenchmarkWriter(b *testing.B) {
	for _, m := range []struct {
		name     string
		fragment int
	}{{"whole", 0}, {"fragments", FragmentLen}} {
		set := compile(benchSecrets(), m.fragment)
		b.Logf("%s: %d patterns", m.name, set.Len())
		b.Run(m.name, func(b *testing.B) { benchWriter(b, set) })
	}
}

func benchWriter(b *testing.B, set *Set) {
	for _, bc := range []struct {
		name  string
		every int
		chunk int
	}{
		{"no-secrets/32KiB-writes", 0, 32 << 10},
		{"no-secrets/line-writes", 0, 100},
		{"secret-every-10-lines/32KiB-writes", 10, 32 << 10},
		{"secret-every-line/32KiB-writes", 1, 32 << 10},
	} {
		data := benchLog(bc.every)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				w := set.NewWriter(io.Discard, 0)
				for rest := data; len(rest) > 0; {
					n := min(bc.chunk, len(rest))
					w.Write(rest[:n])
					rest = rest[n:]
				}
				w.Close()
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	secrets := benchSecrets()
	for _, m := range []struct {
		name     string
		fragment int
	}{{"whole", 0}, {"fragments", FragmentLen}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				compile(secrets, m.fragment)
			}
		})
	}
}
