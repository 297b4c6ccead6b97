package bench

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// fixtureValueSize is the length of the secret values the load generator
// stores: about a database password with its user name.
const fixtureValueSize = 64

// sessionSeconds is the lifetime asked of every session the load mints:
// AWS's minimum.
const sessionSeconds = 900

// fixtures are what a run creates before the load and deletes after it,
// all named shortfuse-bench-ID (secrets shortfuse-bench/ID…):
//   - a secret, read by get-secret-value;
//   - secrets written by put-secret-value, a fresh one every putsPerSecret
//     writes (see secretPool);
//   - a role whose trust policy names the caller, for assume-role;
//   - an IAM user with an access key, for get-session-token, which AWS
//     refuses to session credentials; it also lets the benchmark run with
//     any kind of caller credentials;
//   - with Config.PrincipalPolicies, an IAM user shortfuse-bench-ID-pp
//     with an access key, its managed policies and groups (see
//     makePrincipalPolicies); the load's Secrets Manager requests are sent
//     as that user.
type fixtures struct {
	cl       *clients
	id       string
	timeout  time.Duration
	interval time.Duration

	secretName string
	secretARN  string
	pool       *secretPool

	roleName string
	roleARN  string

	userName    string
	userKeyID   string
	userClients *clients

	ppUser     string
	ppGroups   []string
	ppPolicies []string // ARNs, in the order attached
	ppClients  *clients
	undo       []undoStep // how to delete the ppUser fixtures, oldest first

	puts atomic.Uint64
}

// prepare makes the fixtures cfg.Op needs. It always returns the fixtures
// made so far, which the caller cleans up even when err is not nil.
func prepare(ctx context.Context, cfg Config, cl *clients) (*fixtures, error) {
	var idb [6]byte
	if _, err := io.ReadFull(cfg.Rand, idb[:]); err != nil {
		return &fixtures{cl: cl}, fmt.Errorf("fixture name: %w", err)
	}
	fx := &fixtures{cl: cl, id: hex.EncodeToString(idb[:]), timeout: cfg.FixtureTimeout, interval: 250 * time.Millisecond}
	needSecret, needPool, needRole, needUser := cfg.Op.needs()
	if needSecret {
		if err := fx.makeSecret(ctx, cfg.Rand); err != nil {
			return fx, err
		}
	}
	if needPool {
		value := make([]byte, fixtureValueSize/2)
		if _, err := io.ReadFull(cfg.Rand, value); err != nil {
			return fx, fmt.Errorf("fixture secret value: %w", err)
		}
		fx.pool = newSecretPool(cl.sm, "shortfuse-bench/"+fx.id, hex.EncodeToString(value), 2*cfg.Concurrency)
		if err := fx.pool.fill(ctx); err != nil {
			return fx, err
		}
		fx.pool.start(ctx)
	}
	if needRole {
		if err := fx.makeRole(ctx); err != nil {
			return fx, err
		}
	}
	if needUser {
		if err := fx.makeUser(ctx, cfg); err != nil {
			return fx, err
		}
	}
	if cfg.PrincipalPolicies > 0 {
		if err := fx.makePrincipalPolicies(ctx, cfg); err != nil {
			return fx, err
		}
	}
	return fx, nil
}

func (fx *fixtures) makeSecret(ctx context.Context, rnd io.Reader) error {
	value := make([]byte, fixtureValueSize/2)
	if _, err := io.ReadFull(rnd, value); err != nil {
		return fmt.Errorf("fixture secret value: %w", err)
	}
	name := "shortfuse-bench/" + fx.id
	out, err := fx.cl.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("shortfuse bench fixture; deleted when the run ends"),
		SecretString: aws.String(hex.EncodeToString(value)),
	})
	if err != nil {
		return fmt.Errorf("fixture: create secret %s: %w", name, err)
	}
	fx.secretName = name
	fx.secretARN = aws.ToString(out.ARN)
	return fx.ready(ctx, "secret "+name, func(ctx context.Context) error {
		_, err := fx.cl.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		return err
	})
}

func (fx *fixtures) makeRole(ctx context.Context) error {
	who, err := fx.cl.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("fixture: who am I (sts:GetCallerIdentity): %w", err)
	}
	principal := trustPrincipal(aws.ToString(who.Arn), aws.ToString(who.Account))
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": principal},
			"Action":    "sts:AssumeRole",
		}},
	})
	if err != nil {
		return err
	}
	name := "shortfuse-bench-" + fx.id
	out, err := fx.cl.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(string(trust)),
		Description:              aws.String("shortfuse bench fixture; deleted when the run ends"),
	})
	if err != nil {
		return fmt.Errorf("fixture: create role %s: %w", name, err)
	}
	fx.roleName = name
	fx.roleARN = aws.ToString(out.Role.Arn)
	return fx.ready(ctx, "role "+name, fx.assumeRole)
}

// trustPrincipal is the principal a fixture role trusts for a caller: the
// caller's own ARN when it is an IAM user or the account root, else (a
// session, whose role path the session ARN does not tell) the account, which
// leaves the decision to the caller's identity policies.
func trustPrincipal(callerARN, account string) string {
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) == 6 && parts[2] == "iam" && (strings.HasPrefix(parts[5], "user/") || parts[5] == "root") {
		return callerARN
	}
	partition := "aws"
	if len(parts) == 6 && parts[1] != "" {
		partition = parts[1]
	}
	return "arn:" + partition + ":iam::" + account + ":root"
}

func (fx *fixtures) makeUser(ctx context.Context, cfg Config) error {
	name := "shortfuse-bench-" + fx.id
	if _, err := fx.cl.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		return fmt.Errorf("fixture: create user %s: %w", name, err)
	}
	fx.userName = name
	out, err := fx.cl.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("fixture: create access key for %s: %w", name, err)
	}
	fx.userKeyID = aws.ToString(out.AccessKey.AccessKeyId)
	creds := credentials.NewStaticCredentialsProvider(fx.userKeyID, aws.ToString(out.AccessKey.SecretAccessKey), "")
	// The user's requests share the run's connection pool.
	ucfg := cfg
	ucfg.HTTPClient = fx.cl.cfg.HTTPClient
	fx.userClients = newClients(ucfg, creds)
	return fx.ready(ctx, "access key of user "+name, fx.getSessionToken)
}

// ready waits until f succeeds: real AWS makes new users, keys and roles
// usable a few seconds after it has acknowledged them. Only the errors of
// that window are waited out; any other error is returned at once.
func (fx *fixtures) ready(ctx context.Context, what string, f call) error {
	deadline := time.Now().Add(fx.timeout)
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		var ae smithy.APIError
		transient := errors.As(err, &ae) && notYetConsistent[ae.ErrorCode()]
		if !transient || time.Now().After(deadline) {
			return fmt.Errorf("fixture: %s not usable: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(fx.interval):
		}
	}
}

// notYetConsistent are the errors AWS gives for a principal, key or
// resource it has only just created.
var notYetConsistent = map[string]bool{
	"InvalidClientTokenId":        true,
	"UnrecognizedClientException": true,
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"ResourceNotFoundException":   true,
}

// stopBackground stops the creation of fixtures during the load.
func (fx *fixtures) stopBackground() {
	if fx.pool != nil {
		fx.pool.stopBackground()
	}
}

// workerCalls returns the request of each Op, bound to the fixtures, for
// one worker (put-secret-value keeps which secret the worker writes).
// Secrets Manager requests go as the policies-per-principal user when
// there is one.
func (fx *fixtures) workerCalls(cl *clients) map[Op]call {
	var (
		putSecret string
		putsLeft  int
	)
	sm := cl.sm
	if fx.ppClients != nil {
		sm = fx.ppClients.sm
	}
	return map[Op]call{
		GetSecretValue: func(ctx context.Context) error {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(fx.secretName)})
			return err
		},
		PutSecretValue: func(ctx context.Context) error {
			if putsLeft == 0 {
				name, err := fx.pool.take(ctx)
				if err != nil {
					return err
				}
				putSecret, putsLeft = name, putsPerSecret
			}
			putsLeft--
			// Each value is new; the SDK supplies a fresh
			// ClientRequestToken, so every call makes a version.
			n := fx.puts.Add(1)
			_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId:     aws.String(putSecret),
				SecretString: aws.String(fmt.Sprintf("%0*d", fixtureValueSize, n)),
			})
			return err
		},
		AssumeRole:      fx.assumeRole,
		GetSessionToken: fx.getSessionToken,
	}
}

func (fx *fixtures) assumeRole(ctx context.Context) error {
	_, err := fx.cl.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fx.roleARN),
		RoleSessionName: aws.String("shortfuse-bench"),
		DurationSeconds: aws.Int32(sessionSeconds),
	})
	return err
}

func (fx *fixtures) getSessionToken(ctx context.Context) error {
	_, err := fx.userClients.sts.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(sessionSeconds)})
	return err
}

// cleanup deletes what prepare made, newest first, and returns what it
// could not delete.
func (fx *fixtures) cleanup(ctx context.Context) []string {
	fx.stopBackground()
	var warnings []string
	warn := func(what string, err error) {
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("could not delete fixture %s: %v", what, err))
		}
	}
	fx.undoPrincipalPolicies(ctx, warn)
	if fx.userKeyID != "" {
		_, err := fx.cl.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(fx.userName), AccessKeyId: aws.String(fx.userKeyID)})
		warn("access key of user "+fx.userName, err)
	}
	if fx.userName != "" {
		_, err := fx.cl.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(fx.userName)})
		warn("user "+fx.userName, err)
	}
	if fx.roleName != "" {
		_, err := fx.cl.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(fx.roleName)})
		warn("role "+fx.roleName, err)
	}
	if fx.secretName != "" {
		id := fx.secretARN
		if id == "" {
			id = fx.secretName
		}
		_, err := fx.cl.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
		warn("secret "+fx.secretName, err)
	}
	if fx.pool != nil {
		warnings = append(warnings, fx.pool.cleanup(ctx)...)
	}
	return warnings
}
