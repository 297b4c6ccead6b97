package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// maxInput bounds what the decoders read.
const maxInput = 64 << 10

// Encode writes c in format f, ending with a newline.
func Encode(f Format, c Credentials) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	switch f {
	case FormatJenkins:
		if c.SessionToken == "" {
			return nil, errors.New("token: the jenkins format needs a session token")
		}
		return []byte(c.SessionToken + ":" + c.AccessKeyID + ":" + c.SecretAccessKey + "\n"), nil
	case FormatEnv:
		var b strings.Builder
		b.WriteString("export AWS_ACCESS_KEY_ID='" + c.AccessKeyID + "'\n")
		b.WriteString("export AWS_SECRET_ACCESS_KEY='" + c.SecretAccessKey + "'\n")
		if c.SessionToken != "" {
			b.WriteString("export AWS_SESSION_TOKEN='" + c.SessionToken + "'\n")
		}
		if !c.Expiration.IsZero() {
			b.WriteString("export AWS_CREDENTIAL_EXPIRATION='" + formatTime(c.Expiration) + "'\n")
		}
		return []byte(b.String()), nil
	case FormatJSON:
		v := processJSON{Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
		if !c.Expiration.IsZero() {
			v.Expiration = formatTime(c.Expiration)
		}
		return marshalIndent(v)
	case FormatAWS:
		v := stsJSON{Credentials: stsCredentialsJSON{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}}
		if !c.Expiration.IsZero() {
			v.Credentials.Expiration = c.Expiration.UTC().Format("2006-01-02T15:04:05+00:00")
		}
		return marshalIndent(v)
	}
	return nil, fmt.Errorf("token: unknown format %q", f)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func marshalIndent(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// processJSON is the credential_process output, Version 1.
type processJSON struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

// stsJSON is what the aws CLI prints for get-session-token.
type stsJSON struct {
	Credentials stsCredentialsJSON `json:"Credentials"`
}

type stsCredentialsJSON struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration,omitempty"`
}

// Decode reads credentials in format f. Surrounding white space is
// ignored.
func Decode(f Format, data []byte) (Credentials, error) {
	if len(data) > maxInput {
		return Credentials{}, parseErr(f, "longer than %d bytes", maxInput)
	}
	if !utf8.Valid(data) {
		return Credentials{}, parseErr(f, "not valid UTF-8")
	}
	var (
		c   Credentials
		err error
	)
	switch f {
	case FormatJenkins:
		c, err = decodeJenkins(data)
	case FormatEnv:
		c, err = decodeEnv(data)
	case FormatJSON:
		c, err = decodeProcessJSON(data)
	case FormatAWS:
		c, err = decodeSTSJSON(data)
	default:
		return Credentials{}, fmt.Errorf("token: unknown format %q", f)
	}
	if err != nil {
		return Credentials{}, err
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, parseErr(f, "%v", err)
	}
	return c, nil
}

// Parse detects the format of data and decodes it.
func Parse(data []byte) (Credentials, Format, error) {
	f, err := Detect(data)
	if err != nil {
		return Credentials{}, "", err
	}
	c, err := Decode(f, data)
	return c, f, err
}

// Detect guesses the format of data: a JSON object with "Version" is
// credential_process JSON, one with "Credentials" is STS JSON, text with
// AWS_ACCESS_KEY_ID= is env, anything else is tried as jenkins.
func Detect(data []byte) (Format, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return "", parseErr("", "empty")
	}
	if t[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(t, &top); err != nil {
			return "", parseErr("", "looks like JSON but is not valid JSON")
		}
		if _, ok := top["Version"]; ok {
			return FormatJSON, nil
		}
		if _, ok := top["Credentials"]; ok {
			return FormatAWS, nil
		}
		return "", parseErr("", "JSON without \"Version\" (credential_process) or \"Credentials\" (STS)")
	}
	if bytes.Contains(t, []byte("AWS_ACCESS_KEY_ID=")) {
		return FormatEnv, nil
	}
	return FormatJenkins, nil
}

func decodeJenkins(data []byte) (Credentials, error) {
	s := strings.TrimSpace(string(data))
	if strings.ContainsAny(s, " \t\r\n") {
		return Credentials{}, parseErr(FormatJenkins, "contains white space; want one line SessionToken:AccessKeyId:SecretAccessKey")
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Credentials{}, parseErr(FormatJenkins, "has %d parts separated by ':', want 3 (SessionToken:AccessKeyId:SecretAccessKey)", len(parts))
	}
	for i, name := range []string{"session token", "access key id", "secret access key"} {
		if parts[i] == "" {
			return Credentials{}, parseErr(FormatJenkins, "the %s (part %d) is empty", name, i+1)
		}
	}
	return Credentials{SessionToken: parts[0], AccessKeyID: parts[1], SecretAccessKey: parts[2]}, nil
}

func decodeEnv(data []byte) (Credentials, error) {
	var c Credentials
	seen := make(map[string]bool)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return Credentials{}, parseErr(FormatEnv, "line %d is not NAME=VALUE", i+1)
		}
		key = strings.TrimSpace(key)
		val, err := unquoteShell(raw)
		if err != nil {
			return Credentials{}, parseErr(FormatEnv, "line %d (%s): %v", i+1, safeName(key), err)
		}
		if seen[key] {
			return Credentials{}, parseErr(FormatEnv, "%s is set twice", safeName(key))
		}
		seen[key] = true
		switch key {
		case "AWS_ACCESS_KEY_ID":
			c.AccessKeyID = val
		case "AWS_SECRET_ACCESS_KEY":
			c.SecretAccessKey = val
		case "AWS_SESSION_TOKEN":
			c.SessionToken = val
		case "AWS_CREDENTIAL_EXPIRATION":
			if c.Expiration, err = parseExpiration(FormatEnv, key, val); err != nil {
				return Credentials{}, err
			}
		default:
			return Credentials{}, parseErr(FormatEnv, "unexpected variable %s", safeName(key))
		}
	}
	return c, nil
}

// safeName shows a variable name from the input only when it looks like
// one, so that a pasted secret on the wrong line is not echoed back.
func safeName(s string) string {
	if len(s) > 64 {
		return "(a long name)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return "(a malformed name)"
		}
	}
	return s
}

// unquoteShell reads one shell word: bare, in single quotes, or in double
// quotes without anything the shell would expand.
func unquoteShell(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		v := s[1 : len(s)-1]
		if strings.Contains(v, "'") {
			return "", errors.New("unbalanced single quotes")
		}
		return v, nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		v := s[1 : len(s)-1]
		if strings.ContainsAny(v, "\"\\$`") {
			return "", errors.New("double-quoted value with characters the shell would expand")
		}
		return v, nil
	}
	if strings.ContainsAny(s, " \t'\"\\$`;&|<>()") {
		return "", errors.New("value needs quoting")
	}
	return s, nil
}

func decodeProcessJSON(data []byte) (Credentials, error) {
	var (
		c       Credentials
		version json.Number
		exp     string
	)
	fields := credentialFields(&c, &exp)
	fields["Version"] = numberField(&version)
	err := decodeStrict(data, fields)
	if err != nil {
		return Credentials{}, parseErr(FormatJSON, "%v", err)
	}
	if version != "1" {
		return Credentials{}, parseErr(FormatJSON, "Version must be 1")
	}
	if exp != "" {
		if c.Expiration, err = parseExpiration(FormatJSON, "Expiration", exp); err != nil {
			return Credentials{}, err
		}
	}
	return c, nil
}

func decodeSTSJSON(data []byte) (Credentials, error) {
	var (
		c   Credentials
		exp string
		ign json.RawMessage
	)
	creds := credentialFields(&c, &exp)
	seenCreds := false
	err := decodeStrict(data, map[string]fieldReader{
		"Credentials": func(dec *json.Decoder) error {
			seenCreds = true
			return readObject(dec, creds)
		},
		// The rest of an AssumeRole response; read and ignored.
		"AssumedRoleUser":  rawField(&ign),
		"PackedPolicySize": rawField(&ign),
		"SourceIdentity":   rawField(&ign),
	})
	if err != nil {
		return Credentials{}, parseErr(FormatAWS, "%v", err)
	}
	if !seenCreds {
		return Credentials{}, parseErr(FormatAWS, "no Credentials object")
	}
	if c.SessionToken == "" {
		return Credentials{}, parseErr(FormatAWS, "Credentials.SessionToken is missing")
	}
	if exp != "" {
		if c.Expiration, err = parseExpiration(FormatAWS, "Credentials.Expiration", exp); err != nil {
			return Credentials{}, err
		}
	}
	return c, nil
}

// parseExpiration reads an expiration, an RFC 3339 time, in UTC; field
// names it in the error.
func parseExpiration(f Format, field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, parseErr(f, "%s is not an RFC 3339 time", field)
	}
	return t.UTC(), nil
}

// credentialFields reads the members of a credentials object, the same in
// credential_process JSON and in STS's Credentials: all but Expiration
// into c, Expiration into exp.
func credentialFields(c *Credentials, exp *string) map[string]fieldReader {
	return map[string]fieldReader{
		"AccessKeyId":     stringField(&c.AccessKeyID),
		"SecretAccessKey": stringField(&c.SecretAccessKey),
		"SessionToken":    stringField(&c.SessionToken),
		"Expiration":      stringField(exp),
	}
}

// A fieldReader reads one member's value from the decoder.
type fieldReader func(dec *json.Decoder) error

func stringField(dst *string) fieldReader {
	return func(dec *json.Decoder) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		s, ok := tok.(string)
		if !ok {
			return errors.New("want a string")
		}
		*dst = s
		return nil
	}
}

func numberField(dst *json.Number) fieldReader {
	return func(dec *json.Decoder) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		n, ok := tok.(json.Number)
		if !ok {
			return errors.New("want a number")
		}
		*dst = n
		return nil
	}
}

func rawField(dst *json.RawMessage) fieldReader {
	return func(dec *json.Decoder) error { return dec.Decode(dst) }
}

// decodeStrict reads one JSON object whose members are exactly named in
// fields (case-sensitive), each at most once, with nothing after it.
func decodeStrict(data []byte, fields map[string]fieldReader) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := readObject(dec, fields); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func readObject(dec *json.Decoder, fields map[string]fieldReader) error {
	tok, err := dec.Token()
	if err != nil {
		return errors.New("not a JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("malformed JSON")
		}
		key, _ := tok.(string)
		read, ok := fields[key]
		if !ok {
			return fmt.Errorf("unexpected member %q", safeName(key))
		}
		if seen[key] {
			return fmt.Errorf("member %q appears twice", key)
		}
		seen[key] = true
		if err := read(dec); err != nil {
			return fmt.Errorf("member %q: %v", key, jsonReason(err))
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("malformed JSON")
	}
	return nil
}

// jsonReason keeps encoding/json's messages, which can quote input, out of
// errors.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "wrong type"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return err.Error()
}
