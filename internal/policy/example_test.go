package policy_test

import (
	"errors"
	"fmt"

	"github.com/shortfuse/shortfuse/internal/policy"
)

func ExampleParse() {
	_, err := policy.Parse([]byte(`{
		"Version": "2012-10-17",
		"Statement": [{
			"Effect": "Allow",
			"Action": "secretsmanager:GetSecretValue",
			"Resource": "*",
			"Conditions": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
		}]
	}`), policy.KindIdentity)
	var me *policy.MalformedError
	fmt.Println(errors.As(err, &me))
	fmt.Println(err)
	// Output:
	// true
	// Statement[0]: unknown element "Conditions"
}

func ExampleEvaluate() {
	p, err := policy.Parse([]byte(`{
		"Version": "2012-10-17",
		"Statement": [
			{"Sid": "ReadProd", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
			 "Resource": "arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"},
			{"Sid": "NoPlainHTTP", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*",
			 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
		]
	}`), policy.KindIdentity)
	if err != nil {
		panic(err)
	}
	policies := []policy.Labeled{{ID: "ci-read-prod", Policy: p}}
	req := &policy.Request{
		Action:   "secretsmanager:GetSecretValue",
		Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/exampleCredential-AbCdEf",
		Context:  map[string][]string{"aws:securetransport": {"true"}},
	}
	r := policy.Evaluate(req, policies)
	fmt.Println(r.Decision, r.Deciding.PolicyID, r.Deciding.Sid)

	req.Context["aws:securetransport"] = []string{"false"}
	r = policy.Evaluate(req, policies)
	fmt.Println(r.Decision, r.Deciding.Sid)

	req.Resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:/dev/x"
	delete(req.Context, "aws:securetransport")
	req.Missing = true
	r = policy.Evaluate(req, policies)
	fmt.Println(r.Decision, r.Deciding == nil, r.MissingKeys)
	// Output:
	// allowed ci-read-prod ReadProd
	// explicitDeny NoPlainHTTP
	// implicitDeny true [aws:SecureTransport]
}

func ExampleAuthorize() {
	mustParse := func(doc string, kind policy.Kind) *policy.Policy {
		p, err := policy.Parse([]byte(doc), kind)
		if err != nil {
			panic(err)
		}
		return p
	}
	// The role may do anything, but the session was given a session policy that only
	// reads /prod secrets: the session gets the intersection.
	role := mustParse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, policy.KindIdentity)
	sessionPolicy := mustParse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow",
		"Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:/prod/*"}}`, policy.KindIdentity)
	in := policy.Input{
		Identity:   []policy.Labeled{{ID: "role/ci-reader", Policy: role}},
		Session:    []policy.Labeled{{ID: "session", Policy: sessionPolicy}},
		HasSession: true,
	}
	caller := &policy.Principal{
		AWS:        []string{"arn:aws:iam::111122223333:role/ci-reader", "arn:aws:sts::111122223333:assumed-role/ci-reader/jenkins-42"},
		Account:    "111122223333",
		SessionARN: "arn:aws:sts::111122223333:assumed-role/ci-reader/jenkins-42",
	}
	for _, action := range []string{"secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret"} {
		req := &policy.Request{
			Action:    action,
			Resource:  "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf",
			Principal: caller,
		}
		fmt.Println(action, policy.Authorize(req, in).Decision)
	}
	// Output:
	// secretsmanager:GetSecretValue allowed
	// secretsmanager:DeleteSecret implicitDeny
}

func ExamplePolicy_Marshal() {
	p, err := policy.Parse([]byte(`{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole",
		"Principal":{"AWS":"111122223333"},"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":900}}}}`), policy.KindTrust)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(p.Marshal()))
	// Output:
	// {"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333"]},"Action":["sts:AssumeRole"],"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":["900"]}}}]}
}
