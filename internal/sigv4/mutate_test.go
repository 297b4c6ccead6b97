package sigv4

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// wireRequest is an HTTP/1.1 request split into the parts a mutation targets.
type wireRequest struct {
	method, target, proto string
	headers               [][2]string // name, value, as on the wire
	body                  []byte
}

func splitWire(tb testing.TB, wire []byte) wireRequest {
	tb.Helper()
	head, body, ok := bytes.Cut(wire, []byte("\r\n\r\n"))
	if !ok {
		tb.Fatalf("no end of headers in %q", wire)
	}
	lines := strings.Split(string(head), "\r\n")
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) != 3 {
		tb.Fatalf("bad request line %q", lines[0])
	}
	w := wireRequest{method: parts[0], target: parts[1], proto: parts[2], body: bytes.Clone(body)}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			tb.Fatalf("bad header line %q", l)
		}
		w.headers = append(w.headers, [2]string{name, value})
	}
	return w
}

func (w wireRequest) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(w.method + " " + w.target + " " + w.proto + "\r\n")
	for _, h := range w.headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(w.body)
	return b.Bytes()
}

func (w wireRequest) clone() wireRequest {
	c := w
	c.headers = append([][2]string(nil), w.headers...)
	c.body = bytes.Clone(w.body)
	return c
}

// mutateAlnum changes one letter or digit of s, chosen by rng among the positions that are
// not inside a %XX escape and for which ok returns true, to another letter or digit.
// It returns false if s has no such position.
func mutateAlnum(rng *rand.Rand, s string, ok func(i int) bool) (string, bool) {
	var cand []int
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		inEscape := i >= 1 && s[i-1] == '%' || i >= 2 && s[i-2] == '%'
		if alnum && !inEscape && ok(i) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return s, false
	}
	i := cand[rng.IntN(len(cand))]
	b := []byte(s)
	switch c := b[i]; {
	case c == 'z' || c == 'Z' || c == '9':
		b[i] = c - 1
	default:
		b[i] = c + 1
	}
	return string(b), true
}

// mutation changes one part of a signed request by one byte (or, where the part is empty,
// by adding one byte). It returns false if it cannot apply to this request.
type mutation func(rng *rand.Rand, w *wireRequest, signed []string, presigned bool) bool

var mutations = map[string]mutation{
	"method": func(rng *rand.Rand, w *wireRequest, _ []string, _ bool) bool {
		b := []byte(w.method)
		i := rng.IntN(len(b))
		b[i] = 'A' + (b[i]-'A'+1)%26
		w.method = string(b)
		return true
	},
	"path": func(rng *rand.Rand, w *wireRequest, _ []string, _ bool) bool {
		path, query, hasQuery := strings.Cut(w.target, "?")
		p, ok := mutateAlnum(rng, path, func(int) bool { return true })
		if !ok {
			p = path + "x"
		}
		w.target = p
		if hasQuery {
			w.target += "?" + query
		}
		return true
	},
	"query": func(rng *rand.Rand, w *wireRequest, _ []string, _ bool) bool {
		path, query, _ := strings.Cut(w.target, "?")
		// Only the caller's parameters: changing X-Amz-* ones is the fuzz target's business.
		var pieces []string
		var user []int
		for i, p := range strings.Split(query, "&") {
			pieces = append(pieces, p)
			if p != "" && !strings.HasPrefix(p, "X-Amz-") {
				user = append(user, i)
			}
		}
		changed := false
		rng.Shuffle(len(user), func(i, j int) { user[i], user[j] = user[j], user[i] })
		for _, i := range user {
			if p, ok := mutateAlnum(rng, pieces[i], func(int) bool { return true }); ok {
				pieces[i], changed = p, true
				break
			}
		}
		if !changed {
			pieces = append(pieces, "z")
		}
		w.target = path + "?" + strings.TrimPrefix(strings.Join(pieces, "&"), "&")
		return true
	},
	"signed-header": func(rng *rand.Rand, w *wireRequest, signed []string, _ bool) bool {
		var idx []int
		for i, h := range w.headers {
			name := strings.ToLower(h[0])
			// host and content-length have their own cases (content-length would change the
			// framing); a different x-amz-date is a different time, caught by other checks.
			if name != "host" && name != "content-length" && name != "x-amz-date" && contains(signed, name) {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			if v, ok := mutateAlnum(rng, w.headers[i][1], func(int) bool { return true }); ok {
				w.headers[i][1] = v
				return true
			}
		}
		return false
	},
	"host": func(rng *rand.Rand, w *wireRequest, _ []string, _ bool) bool {
		for i, h := range w.headers {
			if h[0] == "Host" {
				v, ok := mutateAlnum(rng, h[1], func(int) bool { return true })
				w.headers[i][1] = v
				return ok
			}
		}
		return false
	},
	"body": func(rng *rand.Rand, w *wireRequest, _ []string, _ bool) bool {
		if len(w.body) == 0 {
			return false
		}
		w.body[rng.IntN(len(w.body))] ^= 1 << rng.IntN(8)
		return true
	},
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestSDKMutations changes one byte of the method, path, query, a signed header, the host
// or the body of SDK-signed requests: every change must fail with ReasonSignature.
func TestSDKMutations(t *testing.T) {
	v := NewVerifier()
	applied := map[string]int{}
	for _, mode := range []string{"header", "presigned"} {
		for seed := range uint64(150) {
			rng := rand.New(rand.NewPCG(seed, 2))
			s := randomSpec(rng, mode == "presigned")
			wire := sdkSign(t, s)
			orig := splitWire(t, wire)
			r0, _ := mustReadServerRequest(t, wire)
			a0, err := Parse(r0)
			if err != nil {
				t.Fatalf("Parse(original) = %v", err)
			}
			for _, kind := range []string{"method", "path", "query", "signed-header", "host", "body"} {
				w := orig.clone()
				if !mutations[kind](rng, &w, a0.SignedHeaders, s.presign) {
					continue
				}
				applied[mode+"/"+kind]++
				t.Run(fmt.Sprintf("fail/%s/%s/seed-%d", mode, kind, seed), func(t *testing.T) {
					mutated := w.bytes()
					r, body, err := readServerRequest(mutated)
					if err != nil {
						t.Fatalf("mutated request does not parse: %v\n%s", err, mutated)
					}
					err = parseAndVerify(v, r, s.secret, optionsFor(s, body))
					wantReason(t, "Verify(mutated)", err, ReasonSignature)
					assertSafeDetail(t, err, s.secret)
				})
			}
		}
	}
	for _, mode := range []string{"header", "presigned"} {
		for _, kind := range []string{"method", "path", "query", "signed-header", "host", "body"} {
			if applied[mode+"/"+kind] < 20 {
				t.Errorf("mutation %s/%s applied %d times, want at least 20", mode, kind, applied[mode+"/"+kind])
			}
		}
	}
}
