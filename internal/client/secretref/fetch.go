package secretref

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// API is the part of the Secrets Manager client that Fetch uses;
// *secretsmanager.Client implements it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// batchLimit is BatchGetSecretValue's limit on SecretIdList.
const batchLimit = 20

// Value is a fetched value for one variable.
type Value struct {
	Var   string
	Value string
}

// Error is a failure to get one secret. It names the variable and the
// secret, and the AWS error code and message (which never carry values).
type Error struct {
	Ref Ref
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("failed to get secret %q for %s: %v", e.Ref.SecretID, e.Ref.Var, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// BatchEntryError is the error BatchGetSecretValue reported for one
// secret. It is a smithy.APIError like the SDK's own errors.
type BatchEntryError struct {
	Code, Message string
}

func (e *BatchEntryError) Error() string                 { return e.Code + ": " + e.Message }
func (e *BatchEntryError) ErrorCode() string             { return e.Code }
func (e *BatchEntryError) ErrorMessage() string          { return e.Message }
func (e *BatchEntryError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// raw is a secret as fetched: its string, or its binary.
type raw struct {
	str    *string
	binary []byte
}

// Fetch gets the values for refs. With two or more distinct secrets it
// tries one BatchGetSecretValue call (fewer calls count against a
// use-limited session) and falls back to GetSecretValue per secret when the
// batch call is refused or unknown, and for any secret the batch did not
// return.
func Fetch(ctx context.Context, api API, refs []Ref) ([]Value, error) {
	var ids []string
	seen := make(map[string]bool)
	for _, r := range refs {
		if !seen[r.SecretID] {
			seen[r.SecretID] = true
			ids = append(ids, r.SecretID)
		}
	}
	got := make(map[string]raw)
	if len(ids) >= 2 {
		failed := make(map[string]error)
		if err := batchGet(ctx, api, ids, got, failed); err != nil && !batchUnavailable(err) {
			return nil, &Error{Ref: refFor(refs, ids[0]), Err: err}
		}
		for _, id := range ids {
			if err := failed[id]; err != nil {
				return nil, &Error{Ref: refFor(refs, id), Err: err}
			}
		}
	}
	for _, id := range ids {
		if _, ok := got[id]; ok {
			continue
		}
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return nil, &Error{Ref: refFor(refs, id), Err: err}
		}
		got[id] = raw{str: out.SecretString, binary: out.SecretBinary}
	}
	vals := make([]Value, 0, len(refs))
	for _, r := range refs {
		v, err := extract(got[r.SecretID], r.JSONKey)
		if err != nil {
			return nil, &Error{Ref: r, Err: err}
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, &Error{Ref: r, Err: errors.New("the value contains a NUL byte, which cannot go into an environment variable")}
		}
		vals = append(vals, Value{Var: r.Var, Value: v})
	}
	return vals, nil
}

func refFor(refs []Ref, id string) Ref {
	for _, r := range refs {
		if r.SecretID == id {
			return r
		}
	}
	return Ref{SecretID: id}
}

// batchGet fills got with what BatchGetSecretValue returns for ids, and
// failed with its per-secret errors. Entries are matched to the ids asked
// by name or ARN; an id matched by neither is left for GetSecretValue.
func batchGet(ctx context.Context, api API, ids []string, got map[string]raw, failed map[string]error) error {
	for start := 0; start < len(ids); start += batchLimit {
		chunk := ids[start:min(start+batchLimit, len(ids))]
		in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: chunk}
		for page := 0; page < 100; page++ {
			out, err := api.BatchGetSecretValue(ctx, in)
			if err != nil {
				return err
			}
			for _, e := range out.SecretValues {
				for _, id := range chunk {
					if id == aws.ToString(e.Name) || id == aws.ToString(e.ARN) {
						got[id] = raw{str: e.SecretString, binary: e.SecretBinary}
					}
				}
			}
			for _, e := range out.Errors {
				id := aws.ToString(e.SecretId)
				if seen := slices.Contains(chunk, id); seen {
					failed[id] = &BatchEntryError{Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.Message)}
				}
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return nil
}

// batchUnavailable reports whether a batch failure should fall back to
// single calls: the operation is unknown or not allowed, or a listed
// secret made the whole call fail.
func batchUnavailable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "AccessDenied", "UnknownOperationException", "InvalidAction",
		"ResourceNotFoundException", "InvalidRequestException", "InvalidParameterException", "ValidationException",
		"DecryptionFailure":
		return true
	}
	return false
}

// extract returns the whole value, or one key of its JSON object.
// SecretBinary is given base64-encoded (environment variables hold text).
func extract(r raw, key string) (string, error) {
	if r.str == nil {
		if r.binary == nil {
			return "", errors.New("the secret has no value")
		}
		if key != "" {
			return "", fmt.Errorf("the secret is binary; it has no JSON key %q", key)
		}
		return base64.StdEncoding.EncodeToString(r.binary), nil
	}
	if key == "" {
		return *r.str, nil
	}
	obj, err := jsonObject(*r.str)
	if err != nil {
		return "", err
	}
	v, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("the secret's JSON object has no key %q", key)
	}
	switch v[0] {
	case '{', '[':
		return "", fmt.Errorf("the secret's key %q holds an object or array, not a string", key)
	case 'n':
		return "", fmt.Errorf("the secret's key %q is null", key)
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("the secret's key %q is not a valid JSON string", key)
		}
		return s, nil
	}
	// A number or boolean: its JSON text.
	return string(v), nil
}

// jsonObject reads the top level of a JSON object, refusing duplicate keys
// (which JSON parsers resolve differently) and trailing data. Its errors
// never quote the document.
func jsonObject(s string) (map[string]json.RawMessage, error) {
	bad := errors.New("the secret's value is not a JSON object")
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return nil, bad
	}
	obj := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad
		}
		if _, dup := obj[k]; dup {
			return nil, fmt.Errorf("the secret's JSON object has the key %q twice", k)
		}
		obj[k] = bytes.TrimSpace(v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad
	}
	return obj, nil
}
