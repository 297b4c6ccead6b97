package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicy builds an identity policy of n statements with wildcards and conditions.
// The statement that allows the bench request comes last, so every statement is tried.
func benchPolicy(tb testing.TB, n int) *Policy {
	tb.Helper()
	var stmts []string
	for i := 0; i < n-1; i++ {
		switch i % 3 {
		case 0:
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["secretsmanager:Describe*","secretsmanager:List*"],"Resource":"arn:aws:secretsmanager:*:*:secret:/team%d/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, i, i, i))
		case 1:
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:/admin%d/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, i, i))
		default:
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"secretsmanager:Get*","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*","Condition":{"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}`, i, i%256))
		}
	}
	stmts = append(stmts, `{"Sid":"Read","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*",
		"Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.0/24"]},"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"},
		"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"},"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"}}}`)
	return mustParse(tb, KindIdentity, doc(strings.Join(stmts, ",")))
}

func benchRequest() *Request {
	return &Request{
		Action:   "secretsmanager:GetSecretValue",
		Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf",
		Context: map[string][]string{
			"aws:securetransport":        {"true"},
			"aws:sourceip":               {"10.1.2.3"},
			"aws:currenttime":            {"2026-11-25T10:00:00Z"},
			"aws:principalarn":           {"arn:aws:iam::111122223333:role/ci-deploy"},
			"aws:principaltag/team":      {"red"},
			"aws:multifactorauthage":     {"120"},
			"aws:username":               {"alice"},
			"aws:userid":                 {"AIDAEXAMPLE"},
			"aws:principalaccount":       {"111122223333"},
			"secretsmanager:secretid":    {"/prod/db"},
			"secretsmanager:name":        {"/prod/db"},
			"aws:requestedregion":        {"us-east-1"},
			"aws:multifactorauthpresent": {"true"},
		},
	}
}

func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		p := benchPolicy(b, n)
		req := benchRequest()
		policies := []Labeled{{ID: "p", Policy: p}}
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if Evaluate(req, policies).Decision != Allow {
					b.Fatal("not allowed")
				}
			}
		})
		b.Run(fmt.Sprintf("statements=%d/into", n), func(b *testing.B) {
			b.ReportAllocs()
			var r Result
			for b.Loop() {
				EvaluateInto(&r, req, policies)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	d := []byte(benchPolicy(b, 10).String())
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(d, KindIdentity); err != nil {
			b.Fatal(err)
		}
	}
}
