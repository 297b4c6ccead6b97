package policy

import (
	"testing"
)

type ctx = map[string][]string

// evalCondition evaluates an identity policy allowing everything under cond.
func evalCondition(t *testing.T, version, cond string, context ctx) Decision {
	t.Helper()
	if version == "" {
		version = Version2012
	}
	d := `{"Version":"` + version + `","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}}`
	p, err := Parse([]byte(d), KindIdentity)
	if err != nil {
		t.Fatalf("Parse(%s) error: %v", d, err)
	}
	req := &Request{Action: "secretsmanager:GetSecretValue", Resource: "*", Context: context}
	return Evaluate(req, []Labeled{{ID: "p", Policy: p}}).Decision
}

func TestConditions(t *testing.T) {
	tests := []struct {
		name    string
		version string
		cond    string
		ctx     ctx
	}{
		// String.
		{name: "allow/StringEquals", cond: `{"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringEquals-case-sensitive", cond: `{"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:username": {"Alice"}}},
		{name: "deny/StringEquals-missing-key", cond: `{"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:userid": {"alice"}}},
		{name: "deny/StringEquals-nil-context", cond: `{"StringEquals":{"aws:username":"alice"}}`},
		{name: "allow/StringEquals-values-ORed", cond: `{"StringEquals":{"aws:username":["bob","alice"]}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringEquals-key-name-case-insensitive", cond: `{"StringEquals":{"AWS:UserName":"alice"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringEquals-context-key-mixed-case", cond: `{"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:UserName": {"alice"}}},
		{name: "allow/StringEquals-both-mixed-case", cond: `{"StringEquals":{"aws:userName":"alice"}}`, ctx: ctx{"AWS:UserName": {"alice"}}},
		{name: "deny/StringEquals-star-is-literal", cond: `{"StringEquals":{"aws:username":"a*"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringEquals-number-value", cond: `{"StringEquals":{"k:n":10}}`, ctx: ctx{"k:n": {"10"}}},
		{name: "allow/StringEquals-bool-value", cond: `{"StringEquals":{"k:b":true}}`, ctx: ctx{"k:b": {"true"}}},
		{name: "allow/StringEquals-multivalued-key-any", cond: `{"StringEquals":{"aws:TagKeys":"b"}}`, ctx: ctx{"aws:TagKeys": {"a", "b"}}},
		{name: "allow/StringNotEquals", cond: `{"StringNotEquals":{"aws:username":["bob","carol"]}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringNotEquals-one-value-matches", cond: `{"StringNotEquals":{"aws:username":["bob","alice"]}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringNotEquals-missing-key", cond: `{"StringNotEquals":{"aws:username":"alice"}}`},
		{name: "deny/StringNotEquals-multivalued-key-one-matches", cond: `{"StringNotEquals":{"aws:TagKeys":"b"}}`, ctx: ctx{"aws:TagKeys": {"a", "b"}}},
		{name: "allow/StringEqualsIgnoreCase", cond: `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringEqualsIgnoreCase-different", cond: `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx: ctx{"aws:username": {"alicia"}}},
		{name: "allow/StringNotEqualsIgnoreCase", cond: `{"StringNotEqualsIgnoreCase":{"aws:username":"BOB"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringNotEqualsIgnoreCase-same", cond: `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringLike", cond: `{"StringLike":{"sts:RoleSessionName":"ci-*"}}`, ctx: ctx{"sts:rolesessionname": {"ci-build-42"}}},
		{name: "allow/StringLike-question", cond: `{"StringLike":{"aws:username":"al?ce"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringLike-star-only", cond: `{"StringLike":{"aws:username":"*"}}`, ctx: ctx{"aws:username": {""}}},
		{name: "deny/StringLike-case-sensitive", cond: `{"StringLike":{"sts:RoleSessionName":"CI-*"}}`, ctx: ctx{"sts:rolesessionname": {"ci-build"}}},
		{name: "deny/StringLike-missing-key", cond: `{"StringLike":{"aws:username":"*"}}`},
		{name: "allow/StringNotLike", cond: `{"StringNotLike":{"aws:username":"admin*"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringNotLike-matches", cond: `{"StringNotLike":{"aws:username":"a*"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "allow/StringNotLike-missing-key", cond: `{"StringNotLike":{"aws:username":"a*"}}`},
		{name: "allow/StringEqualsIfExists-missing", cond: `{"StringEqualsIfExists":{"aws:username":"alice"}}`},
		{name: "allow/StringEqualsIfExists-present-match", cond: `{"StringEqualsIfExists":{"aws:username":"alice"}}`, ctx: ctx{"aws:username": {"alice"}}},
		{name: "deny/StringEqualsIfExists-present-mismatch", cond: `{"StringEqualsIfExists":{"aws:username":"alice"}}`, ctx: ctx{"aws:username": {"bob"}}},
		{name: "allow/StringNotEqualsIfExists-missing", cond: `{"StringNotEqualsIfExists":{"aws:username":"alice"}}`},
		{name: "deny/StringNotLikeIfExists-present-match", cond: `{"StringNotLikeIfExists":{"aws:username":"a*"}}`, ctx: ctx{"aws:username": {"alice"}}},

		// Set operators.
		{name: "allow/ForAllValues-subset", cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env","cost"]}}`, ctx: ctx{"aws:TagKeys": {"team", "env"}}},
		{name: "deny/ForAllValues-not-subset", cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctx: ctx{"aws:TagKeys": {"team", "secret"}}},
		{name: "allow/ForAllValues-missing-key", cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`},
		{name: "allow/ForAllValues-empty-values", cond: `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, ctx: ctx{"aws:TagKeys": {}}},
		{name: "allow/ForAllValues-StringLike", cond: `{"ForAllValues:StringLike":{"aws:TagKeys":["team*","env"]}}`, ctx: ctx{"aws:TagKeys": {"team-a", "env"}}},
		{name: "allow/ForAllValues-StringNotEquals-none-listed", cond: `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","admin"]}}`, ctx: ctx{"aws:TagKeys": {"team", "env"}}},
		{name: "deny/ForAllValues-StringNotEquals-one-listed", cond: `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","admin"]}}`, ctx: ctx{"aws:TagKeys": {"team", "admin"}}},
		{name: "allow/ForAnyValue-one", cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}`, ctx: ctx{"aws:TagKeys": {"x", "team"}}},
		{name: "deny/ForAnyValue-none", cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}`, ctx: ctx{"aws:TagKeys": {"x", "y"}}},
		{name: "deny/ForAnyValue-missing-key", cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}`},
		{name: "deny/ForAnyValue-empty-values", cond: `{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}`, ctx: ctx{"aws:TagKeys": {}}},
		{name: "allow/ForAnyValue-StringNotEquals-one-unlisted", cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"team"}}`, ctx: ctx{"aws:TagKeys": {"team", "x"}}},
		{name: "deny/ForAnyValue-StringNotEquals-all-listed", cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team","env"]}}`, ctx: ctx{"aws:TagKeys": {"team", "env"}}},
		{name: "deny/ForAnyValue-StringNotEquals-missing-key", cond: `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"team"}}`},
		{name: "allow/ForAnyValue-IfExists-missing", cond: `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}`},
		{name: "allow/ForAllValues-NumericLessThan", cond: `{"ForAllValues:NumericLessThan":{"k:n":10}}`, ctx: ctx{"k:n": {"1", "9.5"}}},
		{name: "deny/ForAllValues-NumericLessThan", cond: `{"ForAllValues:NumericLessThan":{"k:n":10}}`, ctx: ctx{"k:n": {"1", "10"}}},

		// Numeric.
		{name: "allow/NumericLessThan", cond: `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`, ctx: ctx{"aws:MultiFactorAuthAge": {"100"}}},
		{name: "deny/NumericLessThan-equal", cond: `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`, ctx: ctx{"aws:MultiFactorAuthAge": {"3600"}}},
		{name: "allow/NumericLessThanEquals-equal", cond: `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"3600"}}`, ctx: ctx{"aws:MultiFactorAuthAge": {"3600"}}},
		{name: "allow/NumericGreaterThan", cond: `{"NumericGreaterThan":{"k:n":-1.5}}`, ctx: ctx{"k:n": {"0"}}},
		{name: "deny/NumericGreaterThan", cond: `{"NumericGreaterThan":{"k:n":5}}`, ctx: ctx{"k:n": {"4.999"}}},
		{name: "allow/NumericGreaterThanEquals", cond: `{"NumericGreaterThanEquals":{"k:n":5}}`, ctx: ctx{"k:n": {"5"}}},
		{name: "deny/NumericGreaterThanEquals", cond: `{"NumericGreaterThanEquals":{"k:n":5}}`, ctx: ctx{"k:n": {"4"}}},
		{name: "allow/NumericEquals-different-spelling", cond: `{"NumericEquals":{"k:n":10}}`, ctx: ctx{"k:n": {"10.0"}}},
		{name: "allow/NumericEquals-exponent", cond: `{"NumericEquals":{"k:n":"1e3"}}`, ctx: ctx{"k:n": {"1000"}}},
		{name: "allow/NumericNotEquals", cond: `{"NumericNotEquals":{"k:n":[1,2]}}`, ctx: ctx{"k:n": {"3"}}},
		{name: "deny/NumericNotEquals-equal", cond: `{"NumericNotEquals":{"k:n":[1,2]}}`, ctx: ctx{"k:n": {"2"}}},
		{name: "allow/NumericNotEquals-missing", cond: `{"NumericNotEquals":{"k:n":1}}`},
		{name: "deny/Numeric-request-not-a-number", cond: `{"NumericLessThan":{"k:n":10}}`, ctx: ctx{"k:n": {"five"}}},
		{name: "deny/Numeric-request-NaN", cond: `{"NumericEquals":{"k:n":10}}`, ctx: ctx{"k:n": {"NaN"}}},
		{name: "allow/NumericNotEquals-request-not-a-number-matches-nothing", cond: `{"NumericNotEquals":{"k:n":10}}`, ctx: ctx{"k:n": {"NaN"}}},
		{name: "deny/Numeric-missing", cond: `{"NumericLessThan":{"k:n":10}}`},
		{name: "allow/NumericLessThanIfExists-missing", cond: `{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":3600}}`},
		{name: "deny/NumericLessThanIfExists-present-too-old", cond: `{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":3600}}`, ctx: ctx{"aws:MultiFactorAuthAge": {"7200"}}},

		// Date.
		{name: "allow/DateLessThan", cond: `{"DateLessThan":{"aws:CurrentTime":"2026-12-31T23:59:59Z"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-25T10:00:00Z"}}},
		{name: "deny/DateLessThan-after", cond: `{"DateLessThan":{"aws:CurrentTime":"2026-11-25T09:59:59Z"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-25T10:00:00Z"}}},
		{name: "deny/DateLessThan-equal", cond: `{"DateLessThan":{"aws:CurrentTime":"2026-11-25T10:00:00Z"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-25T10:00:00Z"}}},
		{name: "allow/DateLessThanEquals-equal", cond: `{"DateLessThanEquals":{"aws:CurrentTime":"2026-11-25T10:00:00Z"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-25T10:00:00Z"}}},
		{name: "allow/DateGreaterThan-epoch-request", cond: `{"DateGreaterThan":{"aws:EpochTime":"2023-11-14T22:13:19Z"}}`, ctx: ctx{"aws:EpochTime": {"1700000000"}}},
		{name: "deny/DateGreaterThan-epoch-request", cond: `{"DateGreaterThan":{"aws:EpochTime":"2023-11-14T22:13:20Z"}}`, ctx: ctx{"aws:EpochTime": {"1700000000"}}},
		{name: "allow/DateGreaterThanEquals-epoch-policy", cond: `{"DateGreaterThanEquals":{"aws:CurrentTime":1700000000}}`, ctx: ctx{"aws:CurrentTime": {"2023-11-14T22:13:20Z"}}},
		{name: "allow/DateEquals-zones", cond: `{"DateEquals":{"aws:TokenIssueTime":"2026-11-25T11:00:00+01:00"}}`, ctx: ctx{"aws:TokenIssueTime": {"2026-11-25T10:00:00Z"}}},
		{name: "allow/DateEquals-date-only-is-midnight-utc", cond: `{"DateEquals":{"aws:CurrentTime":"2026-11-25"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-25T00:00:00Z"}}},
		{name: "allow/DateNotEquals", cond: `{"DateNotEquals":{"aws:CurrentTime":"2026-11-25"}}`, ctx: ctx{"aws:CurrentTime": {"2026-11-26T00:00:00Z"}}},
		{name: "deny/Date-request-not-a-date", cond: `{"DateLessThan":{"aws:CurrentTime":"2026-12-31T23:59:59Z"}}`, ctx: ctx{"aws:CurrentTime": {"yesterday"}}},
		{name: "deny/Date-missing", cond: `{"DateLessThan":{"aws:CurrentTime":"2026-12-31T23:59:59Z"}}`},
		{name: "allow/DateGreaterThanIfExists-missing", cond: `{"DateGreaterThanIfExists":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}`},

		// Bool.
		{name: "allow/Bool", cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: ctx{"aws:SecureTransport": {"true"}}},
		{name: "allow/Bool-case-insensitive", cond: `{"Bool":{"aws:SecureTransport":true}}`, ctx: ctx{"aws:SecureTransport": {"TRUE"}}},
		{name: "deny/Bool-false", cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: ctx{"aws:SecureTransport": {"false"}}},
		{name: "deny/Bool-not-a-bool", cond: `{"Bool":{"aws:SecureTransport":"true"}}`, ctx: ctx{"aws:SecureTransport": {"1"}}},
		{name: "deny/Bool-missing", cond: `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`},
		{name: "allow/BoolIfExists-missing", cond: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`},
		{name: "deny/BoolIfExists-present-mismatch", cond: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, ctx: ctx{"aws:MultiFactorAuthPresent": {"true"}}},

		// Binary.
		{name: "allow/BinaryEquals", cond: `{"BinaryEquals":{"k:bin":"QmluYXJ5"}}`, ctx: ctx{"k:bin": {"QmluYXJ5"}}},
		{name: "deny/BinaryEquals-different", cond: `{"BinaryEquals":{"k:bin":"QmluYXJ5"}}`, ctx: ctx{"k:bin": {"QmluYXJa"}}},
		{name: "deny/BinaryEquals-request-not-base64", cond: `{"BinaryEquals":{"k:bin":"QmluYXJ5"}}`, ctx: ctx{"k:bin": {"Binary"}}},

		// IP address.
		{name: "allow/IpAddress-v4", cond: `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: ctx{"aws:SourceIp": {"10.1.2.3"}}},
		{name: "deny/IpAddress-v4-outside", cond: `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: ctx{"aws:SourceIp": {"11.1.2.3"}}},
		{name: "allow/IpAddress-single-address", cond: `{"IpAddress":{"aws:SourceIp":"192.0.2.7"}}`, ctx: ctx{"aws:SourceIp": {"192.0.2.7"}}},
		{name: "deny/IpAddress-single-address-other", cond: `{"IpAddress":{"aws:SourceIp":"192.0.2.7"}}`, ctx: ctx{"aws:SourceIp": {"192.0.2.8"}}},
		{name: "allow/IpAddress-v6", cond: `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`, ctx: ctx{"aws:SourceIp": {"2001:db8:1::5"}}},
		{name: "deny/IpAddress-v6-outside", cond: `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx: ctx{"aws:SourceIp": {"2001:db9::5"}}},
		{name: "allow/IpAddress-v4-mapped-request", cond: `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: ctx{"aws:SourceIp": {"::ffff:10.1.2.3"}}},
		{name: "allow/IpAddress-unmasked-cidr", cond: `{"IpAddress":{"aws:SourceIp":"10.1.2.3/8"}}`, ctx: ctx{"aws:SourceIp": {"10.200.0.1"}}},
		{name: "deny/IpAddress-request-not-an-ip", cond: `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx: ctx{"aws:SourceIp": {"localhost"}}},
		{name: "deny/IpAddress-missing", cond: `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`},
		{name: "allow/NotIpAddress-outside", cond: `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx: ctx{"aws:SourceIp": {"192.0.2.1"}}},
		{name: "deny/NotIpAddress-inside", cond: `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","10.0.0.0/8"]}}`, ctx: ctx{"aws:SourceIp": {"10.0.0.1"}}},
		{name: "allow/NotIpAddress-missing", cond: `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`},

		// ARN.
		{name: "allow/ArnLike", cond: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}`, ctx: ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/ci-deploy"}}},
		{name: "deny/ArnLike-star-stays-in-its-part", cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:*:us-east-1:*:*"}}`, ctx: ctx{"aws:SourceArn": {"arn:aws:s3:eu-west-1:111122223333:us-east-1:1:x"}}},
		{name: "allow/ArnLike-resource-keeps-colons", cond: `{"ArnLike":{"aws:SourceArn":"arn:aws:secretsmanager:*:*:secret:/prod/*"}}`, ctx: ctx{"aws:SourceArn": {"arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db"}}},
		{name: "allow/ArnEquals", cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/R"}}`, ctx: ctx{"aws:SourceArn": {"arn:aws:iam::111122223333:role/R"}}},
		{name: "deny/ArnEquals-case-sensitive", cond: `{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/R"}}`, ctx: ctx{"aws:SourceArn": {"arn:aws:iam::111122223333:role/r"}}},
		{name: "deny/ArnLike-request-not-an-arn", cond: `{"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}}`, ctx: ctx{"aws:SourceArn": {"111122223333"}}},
		{name: "deny/ArnLike-missing", cond: `{"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}}`},
		{name: "allow/ArnNotLike", cond: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`, ctx: ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/R"}}},
		{name: "deny/ArnNotEquals-equal", cond: `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/R"}}`, ctx: ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/R"}}},
		{name: "allow/ArnNotLike-missing", cond: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`},

		// Null.
		{name: "allow/Null-true-missing", cond: `{"Null":{"aws:TokenIssueTime":"true"}}`},
		{name: "allow/Null-true-empty-values", cond: `{"Null":{"aws:TagKeys":"true"}}`, ctx: ctx{"aws:TagKeys": {}}},
		{name: "deny/Null-true-present", cond: `{"Null":{"aws:TokenIssueTime":"true"}}`, ctx: ctx{"aws:TokenIssueTime": {"2026-11-25T10:00:00Z"}}},
		{name: "allow/Null-false-present", cond: `{"Null":{"aws:TokenIssueTime":false}}`, ctx: ctx{"aws:TokenIssueTime": {"2026-11-25T10:00:00Z"}}},
		{name: "deny/Null-false-missing", cond: `{"Null":{"aws:TokenIssueTime":"False"}}`},

		// Combination: operators ANDed, keys ANDed, values ORed.
		{name: "allow/operators-ANDed-both-true", cond: `{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:SecureTransport": {"true"}, "aws:username": {"alice"}}},
		{name: "deny/operators-ANDed-one-false", cond: `{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:username":"alice"}}`, ctx: ctx{"aws:SecureTransport": {"false"}, "aws:username": {"alice"}}},
		{name: "allow/keys-ANDed-both-true", cond: `{"StringEquals":{"aws:username":"alice","sts:RoleSessionName":"s"}}`, ctx: ctx{"aws:username": {"alice"}, "sts:RoleSessionName": {"s"}}},
		{name: "deny/keys-ANDed-one-false", cond: `{"StringEquals":{"aws:username":"alice","sts:RoleSessionName":"s"}}`, ctx: ctx{"aws:username": {"alice"}, "sts:RoleSessionName": {"t"}}},

		// Policy variables in condition values.
		{name: "allow/variable", cond: `{"StringEquals":{"secretsmanager:ResourceTag/Owner":"${aws:username}"}}`, ctx: ctx{"aws:username": {"alice"}, "secretsmanager:ResourceTag/Owner": {"alice"}}},
		{name: "deny/variable-other-value", cond: `{"StringEquals":{"secretsmanager:ResourceTag/Owner":"${aws:username}"}}`, ctx: ctx{"aws:username": {"bob"}, "secretsmanager:ResourceTag/Owner": {"alice"}}},
		{name: "deny/variable-missing-matches-nothing", cond: `{"StringEquals":{"secretsmanager:ResourceTag/Owner":"${aws:username}"}}`, ctx: ctx{"secretsmanager:ResourceTag/Owner": {""}}},
		{name: "allow/variable-missing-negated-matches-nothing", cond: `{"StringNotEquals":{"secretsmanager:ResourceTag/Owner":"${aws:username}"}}`, ctx: ctx{"secretsmanager:ResourceTag/Owner": {"alice"}}},
		{name: "deny/variable-multivalued-key", cond: `{"StringEquals":{"k:a":"${aws:TagKeys}"}}`, ctx: ctx{"k:a": {"x"}, "aws:TagKeys": {"x", "y"}}},
		{name: "allow/variable-default", cond: `{"StringEquals":{"k:team":"${aws:PrincipalTag/team, 'none'}"}}`, ctx: ctx{"k:team": {"none"}}},
		{name: "allow/variable-default-unused", cond: `{"StringEquals":{"k:team":"${aws:PrincipalTag/team,'none'}"}}`, ctx: ctx{"k:team": {"red"}, "aws:PrincipalTag/team": {"red"}}},
		{name: "deny/variable-value-star-is-literal", cond: `{"StringLike":{"k:a":"${aws:username}"}}`, ctx: ctx{"k:a": {"anything"}, "aws:username": {"*"}}},
		{name: "allow/variable-value-star-matches-itself", cond: `{"StringLike":{"k:a":"${aws:username}"}}`, ctx: ctx{"k:a": {"*"}, "aws:username": {"*"}}},
		{name: "allow/variable-plus-glob", cond: `{"StringLike":{"sts:RoleSessionName":"${aws:username}-*"}}`, ctx: ctx{"sts:RoleSessionName": {"alice-ci"}, "aws:username": {"alice"}}},
		{name: "allow/variable-literal-star-escape", cond: `{"StringLike":{"k:a":"a${*}b*"}}`, ctx: ctx{"k:a": {"a*bc"}}},
		{name: "deny/variable-literal-star-escape", cond: `{"StringLike":{"k:a":"a${*}b"}}`, ctx: ctx{"k:a": {"axb"}}},
		{name: "allow/variable-dollar-escape", cond: `{"StringEquals":{"k:a":"${$}{x}"}}`, ctx: ctx{"k:a": {"${x}"}}},
		{name: "allow/variable-in-ArnLike", cond: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}`, ctx: ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:user/alice"}, "aws:username": {"alice"}}},
		{name: "deny/variable-in-ArnLike-colon-literal", cond: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${k:acct}:user/x"}}`, ctx: ctx{"aws:PrincipalArn": {"arn:aws:iam::111122223333:user/x"}, "k:acct": {"*"}}},
		{name: "allow/variable-in-Bool", cond: `{"Bool":{"aws:SecureTransport":"${k:want}"}}`, ctx: ctx{"aws:SecureTransport": {"true"}, "k:want": {"true"}}},
		{name: "allow/variable-not-substituted-in-2008", version: Version2008, cond: `{"StringEquals":{"k:a":"${aws:username}"}}`, ctx: ctx{"k:a": {"${aws:username}"}, "aws:username": {"alice"}}},
		{name: "deny/variable-not-substituted-in-2008", version: Version2008, cond: `{"StringEquals":{"k:a":"${aws:username}"}}`, ctx: ctx{"k:a": {"alice"}, "aws:username": {"alice"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ImplicitDeny
			if tt.name[:len("allow/")] == "allow/" {
				want = Allow
			}
			if got := evalCondition(t, tt.version, tt.cond, tt.ctx); got != want {
				t.Errorf("Evaluate() = %v, want %v\ncondition %s\ncontext %v", got, want, tt.cond, tt.ctx)
			}
		})
	}
}
