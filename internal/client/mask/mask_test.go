package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// maskAll writes input through a Writer in the given chunks and returns the
// output.
func maskAll(t testing.TB, set *Set, chunks ...string) string {
	t.Helper()
	var out bytes.Buffer
	w := set.NewWriter(&out, 0)
	for _, c := range chunks {
		n, err := w.Write([]byte(c))
		if err != nil || n != len(c) {
			t.Fatalf("Write() = %d, %v; want %d, nil", n, err, len(c))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return out.String()
}

func TestWriter(t *testing.T) {
	pem := "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34\nGkxFhD90vcNLYLInFEX\n-----END KEY-----"
	tests := []struct {
		name    string
		secrets []string
		chunks  []string
		want    string
	}{
		{"ok/no-secrets", nil, []string{"hello\n"}, "hello\n"},
		{"ok/nothing-to-mask", []string{"hunter2"}, []string{"hello world\n"}, "hello world\n"},
		{"ok/plain", []string{"hunter2"}, []string{"pw=hunter2\n"}, "pw=****\n"},
		{"ok/twice", []string{"hunter2"}, []string{"hunter2 hunter2\n"}, "**** ****\n"},
		{"ok/back-to-back", []string{"hunter2"}, []string{"hunter2hunter2\n"}, "********\n"},
		{"ok/two-secrets", []string{"hunter2", "s3cr3t!"}, []string{"a hunter2 b s3cr3t! c\n"}, "a **** b **** c\n"},
		{"ok/overlapping", []string{"abcdef", "defghi"}, []string{"xabcdefghiy\n"}, "x****y\n"},
		{"ok/nested", []string{"passwordX", "word"}, []string{"a passwordX b word c\n"}, "a **** b **** c\n"},
		{"ok/prefix-of-another", []string{"hunter", "hunter2000"}, []string{"hunter2 hunter2000\n"}, "****2 ****\n"},
		{"ok/split-in-two", []string{"hunter2"}, []string{"pw=hun", "ter2\n"}, "pw=****\n"},
		{"ok/split-bytewise", []string{"hunter2"}, strings.Split("pw=hunter2!\n", ""), "pw=****!\n"},
		{"ok/false-start", []string{"hunter2"}, []string{"hunt", "hunter", "2\n"}, "hunt****\n"},
		{"ok/unfinished-short", []string{"hunter2"}, []string{"hun"}, "hun"},
		{"ok/unfinished-long-masked", []string{"hunter2"}, []string{"x hunte"}, "x ****"},
		{"ok/no-newline", []string{"hunter2"}, []string{"hunter2"}, "****"},
		{"ok/multiline-whole", []string{pem}, []string{pem + "\n"}, "****\n"},
		{"ok/multiline-by-line", []string{pem}, []string{"line: MIIBOgIBAAJBAKj34\n", "and GkxFhD90vcNLYLInFEX\n"}, "line: ****\nand ****\n"},
		{"ok/multiline-crlf", []string{"first-line\r\nsecond-line"}, []string{"second-line\r\n"}, "****\r\n"},
		{"ok/short-not-masked", []string{"abc"}, []string{"abc\n"}, "abc\n"},
		{"ok/fragment-prefix", []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, []string{"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE\n"}, "AWS_SECRET_ACCESS_KEY=****\n"},
		{"ok/fragment-middle-split", []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, []string{"x tnFEMI/K7", "MDENG y\n"}, "x **** y\n"},
		{"ok/fragment-of-base64", []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, []string{"bHJYVXRuRkVNSS9L\n"}, "****\n"},           // 16 of its base64
		{"ok/fragment-too-short", []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, []string{"x tnFEMI/K7MD y\n"}, "x tnFEMI/K7MD y\n"}, // 11 bytes
		{"ok/json-escaped", []string{`p"w\d`}, []string{`{"v":"p\"w\\d"}` + "\n"}, `{"v":"****"}` + "\n"},
		{"ok/json-html", []string{"a<b>&c"}, []string{`"a\u003cb\u003e\u0026c"`}, `"****"`},
		{"ok/json-ascii", []string{"pässwörd"}, []string{`"p\u00e4ssw\u00f6rd"`}, `"****"`},
		{"ok/url-query", []string{"a b&c=d"}, []string{"?x=a+b%26c%3Dd\n"}, "?x=****\n"},
		{"ok/url-path", []string{"a b/c"}, []string{"/a%20b%2Fc\n"}, "/****\n"},
		{"ok/shell-single-quote", []string{"it's secret"}, []string{`+ echo 'it'\''s secret'` + "\n"}, "+ echo '****'\n"},
		{"ok/shell-printf-q", []string{"a b$c"}, []string{`a\ b\$c` + "\n"}, "****\n"},
		{"ok/shell-double-quote", []string{`a"b$c`}, []string{`"a\"b\$c"` + "\n"}, `"****"` + "\n"},
		{"ok/base64", []string{"hunter2"}, []string{"aHVudGVyMg==\n"}, "****\n"},
		{"ok/base64-url", []string{"\xfb\xff\xbf>>>"}, []string{"-_-_Pj4-\n"}, "****\n"},
		{"ok/redacted-is-not-a-secret", []string{"****"}, []string{"a **** b\n"}, "a **** b\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vals [][]byte
			for _, s := range tc.secrets {
				vals = append(vals, []byte(s))
			}
			got := maskAll(t, Compile(vals...), tc.chunks...)
			if got != tc.want {
				t.Errorf("masked = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWriterEverySplit writes the same text split at every pair of points.
func TestWriterEverySplit(t *testing.T) {
	secret := "correct horse battery"
	text := "start " + secret + " middle " + base64.StdEncoding.EncodeToString([]byte("x"+secret)) + " end\n"
	set := Compile([]byte(secret))
	want := maskAll(t, set, text)
	if strings.Contains(want, secret) || strings.Count(want, Redacted) != 2 {
		t.Fatalf("whole write masked = %q", want)
	}
	for i := 0; i <= len(text); i++ {
		for j := i; j <= len(text); j++ {
			if got := maskAll(t, set, text[:i], text[i:j], text[j:]); got != want {
				t.Fatalf("split at %d,%d: %q, want %q", i, j, got, want)
			}
		}
	}
}

// TestBase64EveryAlignment encodes the secret at every offset inside a
// larger blob, with both alphabets, and checks that no encoded run of the
// secret survives.
func TestBase64EveryAlignment(t *testing.T) {
	secrets := []string{"hunter22", "p", "ab\xff\xfe\xfdcd", "a much longer secret value of forty bytes", "four"}
	for _, secret := range secrets {
		set := Compile([]byte(secret))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			for prefix := 0; prefix < 7; prefix++ {
				for suffix := 0; suffix < 4; suffix++ {
					name := fmt.Sprintf("%q/prefix-%d/suffix-%d", secret, prefix, suffix)
					blob := strings.Repeat("P", prefix) + secret + strings.Repeat("S", suffix)
					encoded := enc.EncodeToString([]byte(blob))
					got := maskAll(t, set, encoded)
					if len(secret) < MinLen {
						if got != encoded {
							t.Errorf("%s: short secret masked: %q", name, got)
						}
						continue
					}
					if !strings.Contains(got, Redacted) {
						t.Errorf("%s: %q not masked", name, encoded)
					}
					if leak := base64Aligned(enc, []byte(secret), prefix%3); strings.Contains(got, string(leak)) {
						t.Errorf("%s: %q still contains %q", name, got, leak)
					}
					// What is left decodes to at most a few bytes of the secret
					// at either edge.
					if left := strings.ReplaceAll(got, Redacted, ""); len(left) > len(encoded)-len(base64Aligned(enc, []byte(secret), prefix%3)) {
						t.Errorf("%s: masked %q, only %d chars hidden", name, got, len(encoded)-len(left))
					}
				}
			}
		}
	}
}

func TestVariants(t *testing.T) {
	v := Variants([]byte("it's a/b c"))
	want := []string{
		"it's a/b c",
		base64.StdEncoding.EncodeToString([]byte("it's a/b c")),
		url.QueryEscape("it's a/b c"),
		url.PathEscape("it's a/b c"),
		`it'\''s a/b c`,
		`it'"'"'s a/b c`,
		`it\'s\ a/b\ c`,
	}
	have := make(map[string]bool)
	for _, p := range v {
		if len(p) < MinLen {
			t.Errorf("variant %q is shorter than MinLen", p)
		}
		if have[string(p)] {
			t.Errorf("variant %q twice", p)
		}
		have[string(p)] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("Variants() lacks %q", w)
		}
	}
	if got := Variants([]byte("abc")); len(got) != 0 {
		t.Errorf("Variants(short) = %q, want none", got)
	}
}

// TestShellVariantsMatchBash checks the printf %q and set -x forms against
// bash itself.
func TestShellVariantsMatchBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	for _, s := range []string{"it's", "a b$c", "x,y~z#", "~home", "#hash", `q"uo\te`, "tab\tx", "a\x01b\x1bc\td\ne\rf\x7fg'h\\i\aj\bk\fl\vm"} {
		out, err := exec.Command(bash, "-c", `printf %q "$1"`, "-", s).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !containsVariant(s, string(out)) {
			t.Errorf("printf %%q %q = %q, not among the variants", s, out)
		}
	}
}

func containsVariant(s, v string) bool {
	for _, p := range Variants([]byte(s)) {
		if string(p) == v {
			return true
		}
	}
	return false
}

func TestJSONVariantsMatchEncoder(t *testing.T) {
	for _, s := range []string{"a\nb\tc\"d\\e", "<tag>&amp;", "ünïcødé 😀 text", "ctl\x01\x1f"} {
		b, _ := json.Marshal(s)
		if !containsVariant(s, string(b[1:len(b)-1])) {
			t.Errorf("json.Marshal(%q) = %s, not among the variants", s, b)
		}
	}
	// Python's json.dumps with ensure_ascii (its default).
	if !containsVariant("😀 smile", `\ud83d\ude00 smile`) {
		t.Error("surrogate-pair form missing")
	}
}

func TestFlushMidSecret(t *testing.T) {
	set := Compile([]byte("hunter2"))
	var out bytes.Buffer
	w := set.NewWriter(&out, 0)
	w.Write([]byte("pw=hun"))
	if got := out.String(); got != "pw=" {
		t.Fatalf("before flush: %q, want the tail held back", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("ter2 ok\n"))
	w.Close()
	if got, want := out.String(), "pw=hun**** ok\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestIdleTimerReleasesTail(t *testing.T) {
	set := Compile([]byte("hunter2"))
	out := &testutil.Buffer{}
	w := set.NewWriter(out, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("Password? h"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "Password? h" {
		if time.Now().After(deadline) {
			t.Fatalf("held tail not released: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWriteAfterClose(t *testing.T) {
	w := Compile([]byte("hunter2")).NewWriter(&bytes.Buffer{}, 0)
	w.Close()
	if _, err := w.Write([]byte("x")); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestUnderlyingError(t *testing.T) {
	w := Compile([]byte("hunter2")).NewWriter(failWriter{}, 0)
	if _, err := w.Write([]byte("hello\n")); err == nil {
		t.Fatal("Write() = nil error, want the writer's error")
	}
	if _, err := w.Write([]byte("again\n")); err == nil {
		t.Fatal("second Write() = nil error")
	}
}

func TestMask(t *testing.T) {
	set := Compile([]byte("hunter2"), []byte("AKIAEXAMPLE123"))
	if got, want := string(set.Mask([]byte("key AKIAEXAMPLE123 pw hunter2"))), "key **** pw ****"; got != want {
		t.Errorf("Mask() = %q, want %q", got, want)
	}
	if got := CompileExact([]byte("abc"), []byte("exact")).Len(); got != 1 {
		t.Errorf("CompileExact().Len() = %d, want 1", got)
	}
}

// TestRandomAgainstNaive compares the streaming writer with a naive
// whole-buffer check on random inputs over a tiny alphabet, where matches
// overlap often.
func TestRandomAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		var pats [][]byte
		for n := 1 + r.IntN(4); n > 0; n-- {
			pats = append(pats, randBytes(r, MinLen+r.IntN(4), "ab"))
		}
		set := CompileExact(pats...)
		// The final "c" ends any partial match, so that Close has no held
		// tail to mask (that case has its own table tests).
		input := append(randBytes(r, r.IntN(60), "abc"), 'c')
		var out bytes.Buffer
		w := set.NewWriter(&out, 0)
		for rest := input; len(rest) > 0; {
			k := 1 + r.IntN(len(rest))
			w.Write(rest[:k])
			rest = rest[k:]
		}
		w.Close()
		if got, want := out.String(), naiveMask(input, pats); got != want {
			t.Fatalf("patterns %q input %q: got %q, want %q", pats, input, got, want)
		}
	}
}

func randBytes(r *rand.Rand, n int, alphabet string) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// naiveMask finds every occurrence of every pattern, merges those that
// overlap, and replaces each merged range by Redacted.
func naiveMask(in []byte, pats [][]byte) string {
	type iv struct{ s, e int }
	var ivs []iv
	for i := range in {
		for _, p := range pats {
			if bytes.HasPrefix(in[i:], p) {
				ivs = append(ivs, iv{i, i + len(p)})
			}
		}
	}
	var b strings.Builder
	cur := 0
	for k := 0; k < len(ivs); {
		s, e := ivs[k].s, ivs[k].e
		for k++; k < len(ivs) && ivs[k].s < e; k++ {
			e = max(e, ivs[k].e)
		}
		b.Write(in[cur:s])
		b.WriteString(Redacted)
		cur = e
	}
	b.Write(in[cur:])
	return b.String()
}
