package smapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
)

// Secrets Manager speaks JSON 1.1: request bodies are decoded with
// awsapi.DecodeAWSJSON into the structs below (one member per member of the
// botocore input shape; a member the model does not have is ignored, as AWS
// ignores it), and responses are JSON-tagged structs.

// epochTime is a timestamp as JSON 1.1 sends it: seconds since the epoch,
// a number with a fraction (botocore parses it as such).
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// epoch returns t for an optional response member: nil when t is zero.
func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

// secretStringIn is a SecretString in a request, decoded straight into a
// redacting value, so that no request struct holds the value in clear.
type secretStringIn struct{ v secrets.Value }

func (s *secretStringIn) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	s.v = secrets.StringValue(str)
	return nil
}

// secretBinaryIn is a SecretBinary (a base64 blob) in a request.
type secretBinaryIn struct{ v secrets.Value }

func (s *secretBinaryIn) UnmarshalJSON(b []byte) error {
	var raw []byte
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s.v = secrets.BinaryValue(raw)
	return nil
}

// secretValueParam returns the value of a request that may carry
// SecretString or SecretBinary: the zero Value when it carries neither.
func secretValueParam(str *secretStringIn, bin *secretBinaryIn) (secrets.Value, error) {
	switch {
	case str != nil && bin != nil:
		return secrets.Value{}, awsapi.Errorf(awsapi.CodeInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		return str.v, nil
	case bin != nil:
		return bin.v, nil
	}
	return secrets.Value{}, nil
}

// tagIn is botocore Tag.
type tagIn struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func smTagsParam(in []tagIn) []secrets.Tag {
	out := make([]secrets.Tag, 0, len(in))
	for _, t := range in {
		var tag secrets.Tag
		if t.Key != nil {
			tag.Key = *t.Key
		}
		if t.Value != nil {
			tag.Value = *t.Value
		}
		out = append(out, tag)
	}
	return out
}

// smTagsOut is a secret's Tags member: absent for a secret never tagged,
// [] for one whose last tag was removed (as AWS answers).
func smTagsOut(sec *secrets.Secret) []tagOut {
	if !sec.Tagged {
		return nil
	}
	out := make([]tagOut, len(sec.Tags))
	for i, t := range sec.Tags {
		out[i] = tagOut{Key: t.Key, Value: t.Value}
	}
	return out
}

// smTagConditionKeys are aws:TagKeys and aws:RequestTag/KEY for a request
// carrying tags.
func smTagConditionKeys(tags []secrets.Tag) map[string][]string {
	m := map[string][]string{}
	for _, t := range tags {
		m["aws:TagKeys"] = append(m["aws:TagKeys"], t.Key)
		m["aws:RequestTag/"+t.Key] = []string{t.Value}
	}
	return m
}

// filterIn is botocore Filter.
type filterIn struct {
	Key    *string  `json:"Key"`
	Values []string `json:"Values"`
}

func filtersParam(in []filterIn) []secrets.Filter {
	out := make([]secrets.Filter, 0, len(in))
	for _, f := range in {
		var key string
		if f.Key != nil {
			key = *f.Key
		}
		out = append(out, secrets.Filter{Key: key, Values: f.Values})
	}
	return out
}

// errNullParam refuses a required member that is null, as the service
// model's constraints do ("Member must not be null").
func errNullParam(field string) error {
	return awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

// requiredParam returns a required string member, refusing null and empty
// as the service model's constraints do.
func requiredParam(v *string, field string) (string, error) {
	if v == nil {
		return "", errNullParam(field)
	}
	if *v == "" {
		return "", awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", field)
	}
	return *v, nil
}

// secretInput is the input of an operation on one secret, named by
// SecretId.
type secretInput interface{ secretID() *string }

// secretIDInput is the SecretId member, which the input of every
// operation on one secret embeds; alone, it is the input of DescribeSecret
// and the others that name a secret and nothing else.
type secretIDInput struct {
	SecretId *string `json:"SecretId"`
}

func (in *secretIDInput) secretID() *string { return in.SecretId }

// decodeSecretInput decodes the input of an operation on one secret and
// returns the SecretId it names, checked.
func decodeSecretInput(body []byte, in secretInput) (string, error) {
	if err := awsapi.DecodeAWSJSON(body, in); err != nil {
		return "", err
	}
	return secretIDParam(in.secretID())
}

// secretIDParam is the SecretId member (botocore SecretIdType: 1 to 2048).
// A name with a character no secret name can have is refused as AWS
// refuses it, with ValidationException, before anything is looked up (so a
// forced DeleteSecret of such a name fails rather than "succeeds"); an ARN
// is checked by lookup only.
func secretIDParam(v *string) (string, error) {
	id, err := requiredParam(v, "secretId")
	if err != nil {
		return "", err
	}
	if len(id) > 2048 {
		return "", awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must have length less than or equal to 2048")
	}
	if !strings.HasPrefix(id, "arn:") && strings.IndexFunc(id, func(r rune) bool { return !secretIDRune(r) }) >= 0 {
		return "", awsapi.Errorf(awsapi.CodeValidation, "%s", secrets.MsgInvalidName)
	}
	return id, nil
}

// secretIDRune reports whether r may appear in a SecretId that is a name:
// ASCII letters and digits and -/_+=.@! (AWS's message lists "!", which
// the names of secrets managed by AWS services carry).
func secretIDRune(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-/_+=.@!", r))
}

// clientRequestTokenParam is the ClientRequestToken of a request that
// makes a version (CreateSecret, UpdateSecret and PutSecretValue with a
// value). The SDKs and the CLI always fill it in (the model marks it an
// idempotency token); AWS refuses a raw request without one.
func clientRequestTokenParam(tok *string, value secrets.Value) (string, error) {
	if tok == nil && !value.IsZero() {
		return "", awsapi.Errorf(awsapi.CodeInvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.")
	}
	return strOr(tok), nil
}

// newValueParams are the value (SecretString or SecretBinary) and the
// ClientRequestToken of a request that may make a new version.
func newValueParams(str *secretStringIn, bin *secretBinaryIn, tok *string) (secrets.Value, string, error) {
	value, err := secretValueParam(str, bin)
	if err != nil {
		return secrets.Value{}, "", err
	}
	token, err := clientRequestTokenParam(tok, value)
	if err != nil {
		return secrets.Value{}, "", err
	}
	return value, token, nil
}

func strOr(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// --- pagination ------------------------------------------------------------------

// nextToken is Secrets Manager's NextToken.
var nextToken = rpc.PageToken{Prefix: "sm1:", Bad: awsapi.Errorf(awsapi.CodeInvalidNextToken, "The NextToken value is invalid.")}

// smPage cuts one page out of a full list by NextToken and MaxResults
// (package rpc), each item of it as out answers it: an empty page is []
// rather than nil, so that a list member is never null.
func smPage[T, U any](items []T, token *string, maxResults *int32, def, max int32, out func(T) U) (page []U, next *string, err error) {
	n := def
	if maxResults != nil {
		n = *maxResults
		if n < 1 || n > max {
			return nil, nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", n, max)
		}
	}
	start := 0
	if token != nil {
		if start, err = nextToken.Decode(*token); err != nil {
			return nil, nil, err
		}
	}
	cut, pos := rpc.CutPage(items, start, int(n))
	page = make([]U, 0, len(cut))
	for _, item := range cut {
		page = append(page, out(item))
	}
	if pos < 0 {
		return page, nil, nil
	}
	tok := nextToken.Encode(pos)
	return page, &tok, nil
}

// --- authorization -----------------------------------------------------------------

// secretConditionKeys are the condition keys of a request on an existing
// secret (Secrets Manager's service authorization reference):
// secretsmanager:Name, secretsmanager:SecretId (the ARN), and each tag as
// secretsmanager:ResourceTag/KEY and aws:ResourceTag/KEY.
func secretConditionKeys(sec *secrets.Secret, extra map[string][]string) map[string][]string {
	m := map[string][]string{
		"secretsmanager:Name":     {sec.Name},
		"secretsmanager:SecretId": {sec.ARN},
	}
	for _, t := range sec.Tags {
		m["secretsmanager:ResourceTag/"+t.Key] = []string{t.Value}
		m["aws:ResourceTag/"+t.Key] = []string{t.Value}
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// authorizeSecret resolves a SecretId and authorizes action on the secret,
// with its resource policy. It returns the secret.
//
// A caller must not learn whether a secret exists unless it may act on it:
//
//   - the AccessDenied message names the resource as the caller gave it
//     (as AWS does), never the ARN found, and does not say whether a Deny
//     matched (the resource policy exists only if the secret does);
//   - for a secret that does not exist, the caller is authorized against
//     the ARN the secret would have (secrets.Service.WouldBeARN, "??????"
//     for the suffix) with no resource policy and no tags. Only a caller
//     that would be allowed on the secret whatever its suffix gets
//     ResourceNotFoundException; every other caller gets AccessDenied.
func authorizeSecret(ctx context.Context, r *rpc.Request, svc *secrets.Service, action, id string, extra map[string][]string) (*secrets.Secret, error) {
	sec, err := svc.Describe(ctx, id)
	return authorizeLooked(ctx, r, svc, action, id, extra, sec, err)
}

// authorizeLooked is authorizeSecret once the secret id names was looked up:
// sec, or the lookup's error.
func authorizeLooked(ctx context.Context, r *rpc.Request, svc *secrets.Service, action, id string, extra map[string][]string, sec *secrets.Secret, err error) (*secrets.Secret, error) {
	switch {
	case err == nil:
		pol, err := svc.ResourcePolicy(sec)
		if err != nil {
			return nil, err
		}
		if err := r.AuthorizeResource(ctx, action, sec.ARN, secretConditionKeys(sec, extra), pol); err != nil {
			return nil, secretDenied(r, action, id, err)
		}
		return sec, nil
	case errors.Is(err, secrets.ErrNotFound):
		keys := map[string][]string{
			"secretsmanager:Name":     {svc.NameOf(id)},
			"secretsmanager:SecretId": {id},
		}
		for k, v := range extra {
			keys[k] = v
		}
		if aerr := r.AuthorizeResource(ctx, action, svc.WouldBeARN(id), keys, nil); aerr != nil {
			return nil, secretDenied(r, action, id, aerr)
		}
		return nil, err
	default:
		return nil, err
	}
}

// authorizeSecretParam is authorizeSecret for the secret a request's SecretId parameter
// names, the parameter validated first.
func authorizeSecretParam(ctx context.Context, r *rpc.Request, svc *secrets.Service, action string, v *string, extra map[string][]string) (*secrets.Secret, error) {
	id, err := secretIDParam(v)
	if err != nil {
		return nil, err
	}
	return authorizeSecret(ctx, r, svc, action, id, extra)
}

// authorizeValueWrite is authorizeSecret for a write of value to the
// secret id names, with authorizeMaster for the master the written secret
// would name. It returns the secret and that master.
func authorizeValueWrite(ctx context.Context, r *rpc.Request, svc *secrets.Service, action, id string, extra map[string][]string, value secrets.Value) (*secrets.Secret, string, error) {
	sec, err := authorizeSecret(ctx, r, svc, action, id, extra)
	if err != nil {
		return nil, "", err
	}
	master, err := authorizeMaster(ctx, r, svc, sec.Tags, value)
	if err != nil {
		return nil, "", err
	}
	return sec, master, nil
}

// handleSecretID serves an operation whose input is SecretId alone: it
// authorizes the caller for action on the secret, and answer makes the
// output.
func handleSecretID(svc *secrets.Service, action string, answer func(ctx context.Context, r *rpc.Request, sec *secrets.Secret) (any, error)) rpc.Handler {
	return handleSecretOp(svc, action, noKeys[*secretIDInput], func(ctx context.Context, r *rpc.Request, _ *secretIDInput, sec *secrets.Secret) (any, error) {
		return answer(ctx, r, sec)
	})
}

// noKeys is the check of an operation whose input adds no condition keys.
func noKeys[P any](P) (map[string][]string, error) { return nil, nil }

// handleInput serves an operation whose input is a *T: it decodes the
// request's body, and answer acts on the input.
func handleInput[T any](answer func(ctx context.Context, r *rpc.Request, in *T) (any, error)) rpc.Handler {
	return rpc.Decoded(awsapi.DecodeAWSJSON, answer)
}

// handleSecretInput serves an operation on the one secret its input, a
// *T, names by SecretId: it decodes the input and checks the SecretId, and
// answer acts on both.
func handleSecretInput[T any, P interface {
	*T
	secretInput
}](answer func(ctx context.Context, r *rpc.Request, in P, id string) (any, error)) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		in := P(new(T))
		id, err := decodeSecretInput(r.Body, in)
		if err != nil {
			return nil, err
		}
		return answer(ctx, r, in, id)
	}
}

// handleSecretOp serves an operation on the one secret its input, a *T,
// names by SecretId: check refuses what else is wrong with the input and
// returns the condition keys of the request beyond the secret's own; the
// caller is then authorized for action on the secret, and answer acts.
func handleSecretOp[T any, P interface {
	*T
	secretInput
}](svc *secrets.Service, action string, check func(in P) (map[string][]string, error), answer func(ctx context.Context, r *rpc.Request, in P, sec *secrets.Secret) (any, error)) rpc.Handler {
	return handleSecretInput(func(ctx context.Context, r *rpc.Request, in P, id string) (any, error) {
		keys, err := check(in)
		if err != nil {
			return nil, err
		}
		sec, err := authorizeSecret(ctx, r, svc, action, id, keys)
		if err != nil {
			return nil, err
		}
		return answer(ctx, r, in, sec)
	})
}

// arnNameOut is the output ARN and Name of the secret an operation
// changed.
func arnNameOut(res *secrets.Result, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return &arnNameOutput{ARN: res.ARN, Name: res.Name}, nil
}

// arnNameVersionOut is arnNameOut with the version the operation made.
func arnNameVersionOut(res *secrets.Result, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return &arnNameVersionOutput{ARN: res.ARN, Name: res.Name, VersionId: res.VersionID}, nil
}

// secretDenied rewrites an AccessDenied error to name the resource as the
// caller gave it; other errors pass unchanged.
func secretDenied(r *rpc.Request, action, id string, err error) error {
	var we *awsapi.Error
	if !errors.As(err, &we) || we.Code != awsapi.CodeAccessDenied {
		return err
	}
	who := "anonymous"
	if r.Caller != nil {
		who = r.Caller.ARN
	}
	return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "User: " + who + " is not authorized to perform: " + action + " on resource: " + rpc.SafeText(id)}
}

const (
	msgNoRotation    = "Rotation is not supported by this broker: it runs no rotation functions. Rotate a secret by calling PutSecretValue (or UpdateSecret) with the new value."
	msgNoReplication = "Replication is not supported by this broker: it serves one region."
)

// handleSMUnsupported refuses an operation of the service model that the
// broker does not implement, with a message that says so, rather than
// UnknownOperationException, which the CLI reports as a client bug.
func handleSMUnsupported(op, msg string) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		return nil, awsapi.Errorf(awsapi.CodeInvalidRequest, "%s: %s", op, msg)
	}
}

// boolKey formats a boolean condition key value.
func boolKey(b bool) []string { return []string{strconv.FormatBool(b)} }
