package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzMasker: a secret, in any of the masked encodings, or a run of at
// least FragmentLen bytes of it, written with text around it and split at arbitrary write boundaries (with arbitrary idle
// flushes between writes), never reaches the output.
func FuzzMasker(f *testing.F) {
	f.Add([]byte("hunter2"), []byte("pw="), []byte("\n"), []byte{3, 1, 0x82, 2}, uint8(0))
	f.Add([]byte("correct horse"), []byte("x"), []byte("y"), []byte{1, 1, 1, 1, 1, 1, 1}, uint8(1))
	f.Add([]byte("\xff\xfe\x00secret"), []byte("ab"), []byte(""), []byte{0x85}, uint8(2))
	f.Add([]byte("a b&c=d/é"), []byte("?q="), []byte("&x"), []byte{2, 0x81}, uint8(3))
	f.Add([]byte(`it's "q" \n`), []byte("{\"v\":\""), []byte("\"}"), []byte{4, 4}, uint8(4))
	f.Add([]byte("it's a $secret"), []byte("+ echo '"), []byte("'"), []byte{9, 0x80, 9}, uint8(5))
	f.Add([]byte("line one\nline two"), []byte(""), []byte(""), []byte{5}, uint8(6))
	f.Add([]byte("ssssss"), []byte("sssss"), []byte("sssss"), []byte{1, 2, 3}, uint8(0))
	f.Add([]byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("AWS_SECRET_ACCESS_KEY="), []byte("EY"), []byte{7, 0x85, 3}, uint8(7))
	f.Fuzz(func(t *testing.T, secret, before, after, cuts []byte, enc uint8) {
		if len(secret) < MinLen || len(secret) > 512 || bytes.ContainsRune(secret, '*') {
			t.Skip()
		}
		var payload, needle []byte
		switch enc % 8 {
		case 0:
			payload, needle = secret, secret
		case 1, 2:
			e := base64.StdEncoding
			if enc%7 == 2 {
				e = base64.URLEncoding
			}
			blob := append(append(append([]byte{}, before...), secret...), after...)
			payload = []byte(e.EncodeToString(blob))
			needle = base64Aligned(e, secret, len(before)%3)
			before, after = nil, nil
		case 3:
			payload = []byte(url.QueryEscape(string(secret)))
			needle = payload
		case 4:
			b, _ := json.Marshal(string(secret))
			payload = b[1 : len(b)-1]
			needle = payload
		case 5:
			payload = bytes.ReplaceAll(secret, []byte("'"), []byte(`'\''`))
			needle = payload
		case 6:
			// One line of a multi-line secret, alone.
			lines := bytes.Split(secret, []byte("\n"))
			payload = bytes.TrimSuffix(lines[len(lines)-1], []byte("\r"))
			if len(payload) < MinLen {
				t.Skip()
			}
			needle = payload
		case 7:
			// A run of FragmentLen or more bytes from anywhere in the
			// secret, without a line break.
			if len(secret) <= FragmentLen {
				t.Skip()
			}
			start := len(before) % (len(secret) - FragmentLen + 1)
			n := FragmentLen + len(after)%(len(secret)-start-FragmentLen+1)
			payload = secret[start : start+n]
			if bytes.ContainsAny(payload, "\r\n") {
				t.Skip()
			}
			needle = payload
		}
		if len(needle) < MinLen || bytes.ContainsRune(needle, '*') {
			t.Skip()
		}
		input := append(append(append([]byte{}, before...), payload...), after...)

		set := Compile(secret)
		var out bytes.Buffer
		w := set.NewWriter(&out, 0)
		rest := input
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(int(cuts[i]&0x7f)+1, len(rest))
			}
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
			if i < len(cuts) && cuts[i]&0x80 != 0 {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out.Bytes(), needle) {
			t.Fatalf("secret %q (encoding %d, %q) reached the output: %q", secret, enc%8, needle, out.Bytes())
		}
	})
}
