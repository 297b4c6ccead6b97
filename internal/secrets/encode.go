package secrets

import (
	"time"
	"unicode/utf8"
)

// appendJSON appends the JSON of r, as encoding/json would write it (same members, same
// omissions; strings escaped as JSON requires), without reflection: a secret's record is
// written on every change and holds up to 100 versions. r must be normalized (times in
// UTC), as save does.
func (r *secretRec) appendJSON(b []byte) []byte {
	b = append(b, `{"arn":`...)
	b = appendJSONString(b, r.ARN)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	if r.Description != "" {
		b = append(b, `,"desc":`...)
		b = appendJSONString(b, r.Description)
	}
	b = appendJSONTime(append(b, `,"created":`...), r.Created)
	b = appendJSONTime(append(b, `,"changed":`...), r.Changed)
	if !r.Accessed.IsZero() {
		b = appendJSONTime(append(b, `,"accessed":`...), r.Accessed)
	}
	if !r.Deleted.IsZero() {
		b = appendJSONTime(append(b, `,"deleted":`...), r.Deleted)
	}
	if !r.DeleteAt.IsZero() {
		b = appendJSONTime(append(b, `,"deleteAt":`...), r.DeleteAt)
	}
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range r.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(b, `{"Key":`...), t.Key)
			b = appendJSONString(append(b, `,"Value":`...), t.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.Tagged {
		b = append(b, `,"tagged":true`...)
	}
	if r.Policy != "" {
		b = appendJSONString(append(b, `,"policy":`...), r.Policy)
	}
	if len(r.Versions) > 0 {
		b = append(b, `,"versions":[`...)
		for i := range r.Versions {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Versions[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = r.appendRotation(b)
	return append(b, '}')
}

func (v *versionRec) appendJSON(b []byte) []byte {
	b = appendJSONString(append(b, `{"id":`...), v.ID)
	if len(v.Stages) > 0 {
		b = append(b, `,"stages":[`...)
		for i, s := range v.Stages {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = appendJSONTime(append(b, `,"created":`...), v.Created)
	if !v.Accessed.IsZero() {
		b = appendJSONTime(append(b, `,"accessed":`...), v.Accessed)
	}
	if v.Binary {
		b = append(b, `,"binary":true`...)
	}
	return append(b, '}')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: '"', '\\' and control characters escaped,
// invalid UTF-8 replaced by U+FFFD (as encoding/json does).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
