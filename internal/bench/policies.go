package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// The IAM quotas the policies-per-principal layout keeps to; AWS and the
// broker refuse anything beyond them.
const (
	policiesPerEntity = 10   // managed policies attached to one user or group
	groupsPerUser     = 10   // groups one user belongs to
	policySizeQuota   = 6144 // characters of a managed policy, whitespace aside
)

// MaxPrincipalPolicies is the most managed policies one IAM user can be
// given: 10 attached to it and 10 to each of its at most 10 groups.
const MaxPrincipalPolicies = policiesPerEntity * (1 + groupsPerUser)

// DefaultPolicyStatements is the number of statements of each policy when
// Config.PolicyStatements is 0.
const DefaultPolicyStatements = 10

// PrincipalPoliciesQuota says in words why MaxPrincipalPolicies is the
// limit.
const PrincipalPoliciesQuota = "IAM quotas: 10 managed policies attached to a user, 10 groups per user, 10 managed policies attached to a group"

// PrincipalPoliciesApply reports whether Config.PrincipalPolicies applies
// to op: the operations that call Secrets Manager.
func (op Op) PrincipalPoliciesApply() bool {
	return op == GetSecretValue || op == PutSecretValue || op == Mixed
}

// MaxPolicyStatements is the most statements a policy of the
// policies-per-principal fixtures can hold and stay within the managed
// policy size quota (6144 characters), whatever the partition, region,
// account and run.
func MaxPolicyStatements() int {
	return maxStatements
}

var maxStatements = func() int {
	// The longest partition and region names AWS has (aws-us-gov,
	// us-isob-east-1), and the longest policy index.
	sc := policyScope{partition: "aws-us-gov", region: "us-isob-east-1", account: "123456789012", id: "ffffffffffff"}
	last := MaxPrincipalPolicies - 1
	for s := 1; ; s++ {
		for i := last - 2; i <= last; i++ {
			// Policy i as a decoy (i < last) or as the allowing one (i = last).
			if len(sc.document(Mixed, i, last+1, s)) > policySizeQuota {
				return s - 1
			}
		}
	}
}()

// policyScope is what the fixture policies name: the partition, region and
// account of the run's secrets, and the run's id.
type policyScope struct {
	partition, region, account, id string
}

func (sc policyScope) secretARN(path string) string {
	return "arn:" + sc.partition + ":secretsmanager:" + sc.region + ":" + sc.account + ":secret:" + path
}

type statement struct {
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  string                       `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// decoy is statement j of policy i when it does not apply to the load's
// requests: each names secrets of another path, so that the decision must
// look at its action, resource and, where the resource matched, condition.
// The three kinds take turns.
func (sc policyScope) decoy(i, j int) statement {
	other := sc.secretARN(fmt.Sprintf("shortfuse-bench-decoy/%s/p%ds%d/*", sc.id, i, j))
	switch (i + j) % 3 {
	case 0:
		return statement{
			Effect: "Allow", Action: []string{"secretsmanager:Describe*", "secretsmanager:List*"}, Resource: other,
			Condition: map[string]map[string]string{"StringEquals": {"aws:PrincipalTag/team": fmt.Sprintf("decoy-%d", j)}},
		}
	case 1:
		return statement{
			Effect: "Deny", Action: []string{"secretsmanager:*"}, Resource: other,
			Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
		}
	default:
		return statement{
			Effect: "Allow", Action: []string{"secretsmanager:Get*"}, Resource: other,
			Condition: map[string]map[string]string{"IpAddress": {"aws:SourceIp": fmt.Sprintf("10.%d.0.0/16", (i*31+j)%256)}},
		}
	}
}

// allowedActions are what the allowing statement grants for op.
func allowedActions(op Op) []string {
	switch op {
	case GetSecretValue:
		return []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
	case PutSecretValue:
		return []string{"secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"}
	}
	return []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"}
}

// document is policy i of n, with s statements: decoys, except that the
// last statement of the last policy allows op on the run's secrets.
func (sc policyScope) document(op Op, i, n, s int) string {
	stmts := make([]statement, 0, s)
	for j := range s {
		if i == n-1 && j == s-1 {
			stmts = append(stmts, statement{
				Effect: "Allow", Action: allowedActions(op), Resource: sc.secretARN("shortfuse-bench/" + sc.id + "*"),
			})
			continue
		}
		stmts = append(stmts, sc.decoy(i, j))
	}
	// Compact JSON has no whitespace outside its strings and these strings
	// have none: its length is the size IAM counts.
	b, err := json.Marshal(struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{"2012-10-17", stmts})
	if err != nil {
		panic(err) // plain strings do not fail
	}
	return string(b)
}

// undoStep deletes one fixture of the policies-per-principal layout.
type undoStep struct {
	what string
	do   func(ctx context.Context) error
}

// undoBy is the undo step, named what, that sends in to op.
func undoBy[I, O any](what string, op func(context.Context, I, ...func(*iam.Options)) (O, error), in I) undoStep {
	return undoStep{what, func(ctx context.Context) error {
		_, err := op(ctx, in)
		return err
	}}
}

// makePrincipalPolicies makes the user the load runs as when
// cfg.PrincipalPolicies > 0: shortfuse-bench-ID-pp with an access key and
// n customer managed policies shortfuse-bench-ID-pp-pI, the first 10
// attached to the user, the next ones 10 to a group
// (shortfuse-bench-ID-pp-gK) the user belongs to. All but the last are
// decoys; the last policy, attached last, allows the load's requests in
// its last statement. Every step is recorded in fx.undo as it succeeds.
func (fx *fixtures) makePrincipalPolicies(ctx context.Context, cfg Config) error {
	n, s := cfg.PrincipalPolicies, cfg.PolicyStatements
	who, err := fx.cl.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("fixture: who am I (sts:GetCallerIdentity): %w", err)
	}
	sc := policyScope{partition: "aws", region: cfg.AWS.Region, account: aws.ToString(who.Account), id: fx.id}
	if parts := strings.SplitN(aws.ToString(who.Arn), ":", 3); len(parts) == 3 && parts[0] == "arn" && parts[1] != "" {
		sc.partition = parts[1]
	}
	iamc := fx.cl.iam
	user := "shortfuse-bench-" + fx.id + "-pp"
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		return fmt.Errorf("fixture: create user %s: %w", user, err)
	}
	fx.ppUser = user
	fx.undo = append(fx.undo, undoBy("user "+user, iamc.DeleteUser, &iam.DeleteUserInput{UserName: aws.String(user)}))
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return fmt.Errorf("fixture: create access key for %s: %w", user, err)
	}
	keyID := aws.ToString(key.AccessKey.AccessKeyId)
	fx.undo = append(fx.undo, undoBy("access key of user "+user, iamc.DeleteAccessKey, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(keyID)}))
	creds := credentials.NewStaticCredentialsProvider(keyID, aws.ToString(key.AccessKey.SecretAccessKey), "")
	// The user's requests share the run's connection pool.
	ucfg := cfg
	ucfg.HTTPClient = fx.cl.cfg.HTTPClient
	fx.ppClients = newClients(ucfg, creds)

	group := ""
	for i := range n {
		if i >= policiesPerEntity && (i-policiesPerEntity)%policiesPerEntity == 0 {
			g := fmt.Sprintf("%s-g%d", user, (i-policiesPerEntity)/policiesPerEntity)
			if err := fx.makeGroup(ctx, user, g); err != nil {
				return err
			}
			group = g
		}
		name := fmt.Sprintf("%s-p%d", user, i)
		doc := sc.document(cfg.Op, i, n, s)
		if len(doc) > policySizeQuota {
			return fmt.Errorf("fixture: policy %s would be %d characters, over IAM's quota of %d; use fewer --policy-statements", name, len(doc), policySizeQuota)
		}
		out, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(name),
			PolicyDocument: aws.String(doc),
			Description:    aws.String("shortfuse bench fixture; deleted when the run ends"),
		})
		if err != nil {
			return fmt.Errorf("fixture: create policy %s: %w", name, err)
		}
		arn := aws.ToString(out.Policy.Arn)
		fx.ppPolicies = append(fx.ppPolicies, arn)
		fx.undo = append(fx.undo, undoBy("policy "+name, iamc.DeletePolicy, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}))
		if err := fx.attach(ctx, user, group, name, arn); err != nil {
			return err
		}
	}
	return fx.ready(ctx, fmt.Sprintf("user %s with %d policies", user, n), func(ctx context.Context) error {
		return fx.principalPoliciesProbe(ctx, cfg.Op)
	})
}

// makeGroup creates group g and adds user to it.
func (fx *fixtures) makeGroup(ctx context.Context, user, g string) error {
	iamc := fx.cl.iam
	if _, err := iamc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)}); err != nil {
		return fmt.Errorf("fixture: create group %s: %w", g, err)
	}
	fx.ppGroups = append(fx.ppGroups, g)
	fx.undo = append(fx.undo, undoBy("group "+g, iamc.DeleteGroup, &iam.DeleteGroupInput{GroupName: aws.String(g)}))
	if _, err := iamc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g), UserName: aws.String(user)}); err != nil {
		return fmt.Errorf("fixture: add user %s to group %s: %w", user, g, err)
	}
	fx.undo = append(fx.undo, undoBy("membership of user "+user+" in group "+g, iamc.RemoveUserFromGroup, &iam.RemoveUserFromGroupInput{GroupName: aws.String(g), UserName: aws.String(user)}))
	return nil
}

// attach attaches policy arn to the user, or to group when it is not "".
func (fx *fixtures) attach(ctx context.Context, user, group, name, arn string) error {
	iamc := fx.cl.iam
	if group == "" {
		if _, err := iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("fixture: attach policy %s to user %s: %w", name, user, err)
		}
		fx.undo = append(fx.undo, undoBy("attachment of policy "+name+" to user "+user, iamc.DetachUserPolicy, &iam.DetachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}))
		return nil
	}
	if _, err := iamc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)}); err != nil {
		return fmt.Errorf("fixture: attach policy %s to group %s: %w", name, group, err)
	}
	fx.undo = append(fx.undo, undoBy("attachment of policy "+name+" to group "+group, iamc.DetachGroupPolicy, &iam.DetachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)}))
	return nil
}

// principalPoliciesProbe sends the op's own requests with the
// policies-per-principal user's credentials: a read of the fixture secret
// and, for writes, one write to the first secret of the pool (which leaves
// it room for its putsPerSecret writes).
func (fx *fixtures) principalPoliciesProbe(ctx context.Context, op Op) error {
	if op == GetSecretValue || op == Mixed {
		if _, err := fx.ppClients.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(fx.secretName)}); err != nil {
			return err
		}
	}
	if op == PutSecretValue || op == Mixed {
		id := fx.pool.first()
		if id == "" {
			return errors.New("no secret to write")
		}
		if _, err := fx.ppClients.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId:     aws.String(id),
			SecretString: aws.String(strings.Repeat("0", fixtureValueSize)),
		}); err != nil {
			return err
		}
	}
	return nil
}

// undoPrincipalPolicies deletes the policies-per-principal fixtures, newest
// first. One already gone (NoSuchEntity) is not a warning: what matters is
// that nothing is left.
func (fx *fixtures) undoPrincipalPolicies(ctx context.Context, warn func(string, error)) {
	for i := len(fx.undo) - 1; i >= 0; i-- {
		step := fx.undo[i]
		err := step.do(ctx)
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity" {
			err = nil
		}
		warn(step.what, err)
	}
	fx.undo = nil
}
