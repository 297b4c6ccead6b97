package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MinLen is the shortest value or encoding that is masked.
const MinLen = 4

// maxEncodedLen bounds the values whose encodings are expanded; longer ones
// (certificate bundles, large JSON documents) are masked as themselves and
// line by line only, which keeps the automaton small.
const maxEncodedLen = 16 << 10

// Variants returns the patterns that [Compile] masks for one value: the
// value, its lines, and their encodings, without duplicates and without
// those shorter than [MinLen].
func Variants(value []byte) [][]byte {
	if len(value) < MinLen {
		return nil
	}
	var out [][]byte
	seen := make(map[string]bool)
	add := func(p []byte) {
		if len(p) < MinLen || seen[string(p)] {
			return
		}
		seen[string(p)] = true
		out = append(out, p)
	}
	candidates := [][]byte{value}
	if bytes.ContainsAny(value, "\r\n") {
		for _, line := range bytes.Split(value, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > 0 {
				candidates = append(candidates, line)
			}
		}
	}
	for _, c := range candidates {
		if len(c) < MinLen {
			continue
		}
		add(c)
		if len(c) > maxEncodedLen {
			continue
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			add([]byte(enc.EncodeToString(c)))
			for off := 0; off < 3; off++ {
				add(base64Aligned(enc, c, off))
			}
		}
		s := string(c)
		add([]byte(url.QueryEscape(s)))
		add([]byte(url.PathEscape(s)))
		add([]byte(strings.ReplaceAll(url.QueryEscape(s), "+", "%20")))
		for _, v := range jsonEscapes(s) {
			add([]byte(v))
		}
		for _, v := range shellEscapes(s) {
			add([]byte(v))
		}
	}
	return out
}

// base64Aligned returns the characters of the base64 encoding of c that
// depend on c alone when c starts off bytes (0, 1 or 2) after a 3-byte
// boundary of a larger encoded blob. Character j covers bits [6j, 6j+6) of
// the blob; the value covers bits [8·off, 8·(off+len)).
func base64Aligned(enc *base64.Encoding, c []byte, off int) []byte {
	blob := make([]byte, off+len(c))
	copy(blob[off:], c)
	e := enc.WithPadding(base64.NoPadding).EncodeToString(blob)
	start := (8*off + 5) / 6
	end := 8 * (off + len(c)) / 6
	if start >= end || end > len(e) {
		return nil
	}
	return []byte(e[start:end])
}

// jsonEscapes returns the body of the JSON string for s (without quotes) as
// Go writes it with and without HTML escaping, and as Python's json.dumps
// writes it by default (non-ASCII as \uXXXX).
func jsonEscapes(s string) []string {
	var out []string
	for _, html := range []bool{false, true} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(s); err != nil {
			continue
		}
		body := strings.TrimSuffix(b.String(), "\n")
		out = append(out, body[1:len(body)-1])
	}
	if !isASCII(s) && utf8.ValidString(s) {
		var b strings.Builder
		for _, r := range out[0] {
			if r < utf8.RuneSelf {
				b.WriteRune(r)
				continue
			}
			for _, u := range utf16Units(r) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func utf16Units(r rune) []rune {
	if r < 0x10000 {
		return []rune{r}
	}
	r -= 0x10000
	return []rune{0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// shellEscapes returns how shells and scripts commonly print s quoted: the
// inside of single quotes with each quote closed, escaped and reopened (as
// bash's set -x writes it, or the '"'"' idiom), backslash escapes as printf
// %q writes them, and the inside of double quotes.
func shellEscapes(s string) []string {
	out := []string{
		strings.ReplaceAll(s, `'`, `'\''`),
		strings.ReplaceAll(s, `'`, `'"'"'`),
	}
	var q, dq strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if bashSpecial(c, i == 0) {
			q.WriteByte('\\')
		}
		q.WriteByte(c)
		switch c {
		case '\\', '"', '$', '`':
			dq.WriteByte('\\')
		}
		dq.WriteByte(c)
	}
	out = append(out, q.String(), dq.String())
	if hasControl(s) {
		out = append(out, ansiCQuote(s))
	}
	return out
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// ansiCQuote is bash's printf %q for strings with control characters:
// $'...' with C escapes.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case 0x1b:
			b.WriteString(`\E`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\%03o`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteString("'")
	return b.String()
}

// bashSpecial reports whether printf %q (bash's sh_backslash_quote)
// escapes c; ~ and # only matter at the start of a word.
func bashSpecial(c byte, first bool) bool {
	if first && (c == '~' || c == '#') {
		return true
	}
	return strings.IndexByte(" \t\n'\"\\|&;()<>!{}*[?]^$`,", c) >= 0
}
