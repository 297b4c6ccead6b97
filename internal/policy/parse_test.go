package policy

import (
	"errors"
	"strings"
	"testing"
)

// doc wraps statement JSON into a 2012-10-17 policy document.
func doc(stmts string) string {
	return `{"Version":"2012-10-17","Statement":[` + stmts + `]}`
}

func TestParseAcceptsValidPoliciesAndRefusesMalformedOnes(t *testing.T) {
	const allowAll = `{"Effect":"Allow","Action":"*","Resource":"*"}`
	tests := []struct {
		name string
		kind Kind
		doc  string
		err  string // substring of the MalformedError message; "" for success
	}{
		{name: "ok/minimal", kind: KindIdentity, doc: doc(allowAll)},
		{name: "ok/statement-object", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":` + allowAll + `}`},
		{name: "ok/version-2008", kind: KindIdentity, doc: `{"Version":"2008-10-17","Statement":` + allowAll + `}`},
		{name: "ok/no-version", kind: KindIdentity, doc: `{"Statement":` + allowAll + `}`},
		{name: "ok/id-any-string", kind: KindIdentity, doc: `{"Id":"any thing: at/all","Version":"2012-10-17","Statement":` + allowAll + `}`},
		{name: "ok/whitespace-around", kind: KindIdentity, doc: " \n\t" + doc(allowAll) + "\n  "},
		{name: "ok/sid", kind: KindIdentity, doc: doc(`{"Sid":"ReadProd1","Effect":"Allow","Action":"*","Resource":"*"}`)},
		{name: "ok/empty-sid", kind: KindIdentity, doc: doc(`{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}`)},
		{name: "ok/action-list", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":["sts:AssumeRole","secretsmanager:Get*","iam:?etUser"],"Resource":"*"}`)},
		{name: "ok/action-uppercase-service", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"SecretsManager:GetSecretValue","Resource":"*"}`)},
		{name: "ok/not-action-not-resource", kind: KindIdentity, doc: doc(`{"Effect":"Deny","NotAction":"iam:*","NotResource":["arn:aws:iam::*:user/x"]}`)},
		{name: "ok/resource-with-variables", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/${*}${?}${$}/${aws:PrincipalTag/team, 'none'}"}`)},
		{name: "ok/variables-literal-in-2008", kind: KindIdentity, doc: `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${unterminated"}}`},
		{name: "ok/escaped-key", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":{"Eff\u0065ct":"Allow","Action":"*","Resource":"*"}}`},
		{name: "ok/unicode-resource", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bücket/😀"}`)},
		{name: "ok/surrogate-pair-escape", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/\ud83d\ude00"}`)},
		{name: "ok/all-operators", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			"StringEquals":{"aws:username":"a"},"StringNotEquals":{"aws:username":"b"},
			"StringEqualsIgnoreCase":{"aws:username":"A"},"StringNotEqualsIgnoreCase":{"aws:username":"B"},
			"StringLike":{"aws:username":"a*"},"StringNotLike":{"aws:username":"b*"},
			"NumericEquals":{"k:n":1},"NumericNotEquals":{"k:n":2},"NumericLessThan":{"k:n":3.5},
			"NumericLessThanEquals":{"k:n":"-4"},"NumericGreaterThan":{"k:n":1e3},"NumericGreaterThanEquals":{"k:n":0},
			"DateEquals":{"aws:CurrentTime":"2026-11-25T10:00:00Z"},"DateNotEquals":{"aws:CurrentTime":"1700000000"},
			"DateLessThan":{"aws:CurrentTime":"2026-11-25"},"DateLessThanEquals":{"aws:CurrentTime":"2026-11-25T10:00:00+01:00"},
			"DateGreaterThan":{"aws:CurrentTime":"2026-11-25T10:00:00.123Z"},"DateGreaterThanEquals":{"aws:CurrentTime":"20261125T100000Z"},
			"Bool":{"aws:SecureTransport":true},"BoolIfExists":{"aws:MultiFactorAuthPresent":"TRUE"},
			"BinaryEquals":{"k:bin":"QmluYXJ5"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32","192.0.2.1"]},
			"NotIpAddress":{"aws:SourceIp":"10.1.0.0/16"},"ArnEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/R"},
			"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"},"ArnNotEquals":{"aws:SourceArn":"arn:aws:iam::111122223333:role/X"},
			"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},"Null":{"aws:TokenIssueTime":"false"},
			"ForAnyValue:StringLike":{"aws:TagKeys":"team*"},"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":["team","env"]},
			"StringLikeIfExists":{"secretsmanager:ResourceTag/Project":"x"}}}`)},
		{name: "ok/condition-keys", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{
			"aws:PrincipalTag/team name:x=y+z-@.":"a","token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main",
			"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"s","sts:RoleSessionName":"n","secretsmanager:ResourceTag/Project":"p"}}}`)},
		{name: "ok/same-key-under-two-operators", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:username":"a*"},"StringNotLike":{"aws:username":"ab*"}}}`)},
		{name: "ok/empty-condition", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}`)},
		{name: "ok/resource-principal-star", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`)},
		{name: "ok/resource-principals", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice","arn:aws:sts::111122223333:assumed-role/R/s","*"],"Service":"ec2.amazonaws.com","Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"*","Resource":"*"}`)},
		{name: "ok/resource-not-principal-deny", kind: KindResource, doc: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"*","Resource":"*"}`)},
		{name: "ok/trust", kind: KindTrust, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`)},
		{name: "ok/trust-with-resource", kind: KindTrust, doc: doc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:*","Resource":"*"}`)},

		{name: "fail/kind", kind: Kind(0), doc: doc(allowAll), err: "unknown policy kind"},
		{name: "fail/empty", kind: KindIdentity, doc: ``, err: MsgInvalidJSON},
		{name: "fail/not-object", kind: KindIdentity, doc: `[]`, err: "want an object"},
		{name: "fail/null", kind: KindIdentity, doc: `null`, err: "want an object"},
		{name: "fail/truncated", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":[`, err: MsgInvalidJSON},
		{name: "fail/syntax", kind: KindIdentity, doc: `{"Version":"2012-10-17",,}`, err: MsgInvalidJSON},
		{name: "fail/trailing-data", kind: KindIdentity, doc: doc(allowAll) + `{}`, err: MsgInvalidJSON},
		{name: "fail/trailing-garbage", kind: KindIdentity, doc: doc(allowAll) + `x`, err: MsgInvalidJSON},
		{name: "fail/invalid-utf8", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/` + "\xff" + `"}`), err: "not valid UTF-8"},
		{name: "fail/lone-surrogate", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/\ud800"}`), err: "U+FFFD"},
		{name: "fail/control-char-escape", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/\u0000"}`), err: "control character"},
		{name: "fail/too-large", kind: KindIdentity, doc: doc(allowAll) + strings.Repeat(" ", MaxDocumentSize), err: "more than the limit"},
		{name: "fail/duplicate-top-key", kind: KindIdentity, doc: `{"Version":"2012-10-17","Version":"2012-10-17","Statement":` + allowAll + `}`, err: `duplicate key "Version"`},
		{name: "fail/duplicate-statement-key", kind: KindIdentity, doc: doc(`{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}`), err: `Statement[0]: duplicate key "Effect"`},
		{name: "fail/duplicate-key-by-escape", kind: KindIdentity, doc: doc(`{"Effect":"Deny","Eff\u0065ct":"Allow","Action":"*","Resource":"*"}`), err: `duplicate key "Effect"`},
		{name: "fail/duplicate-operator", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"false"}}}`), err: `duplicate key "Bool"`},
		{name: "fail/duplicate-condition-key", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}}`), err: `duplicate key "aws:username"`},
		{name: "fail/duplicate-condition-key-case", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:UserName":"b"}}}`), err: "keys are case-insensitive"},
		{name: "fail/duplicate-principal-type", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333","AWS":"*"},"Action":"*","Resource":"*"}`), err: `duplicate key "AWS"`},
		{name: "fail/unknown-top", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statements":[` + allowAll + `]}`, err: `unknown element "Statements"`},
		{name: "fail/lowercase-top", kind: KindIdentity, doc: `{"version":"2012-10-17","Statement":[` + allowAll + `]}`, err: `unknown element "version"`},
		{name: "fail/conditions-typo", kind: KindIdentity, doc: doc(allowAll + `,{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}`), err: `Statement[1]: unknown element "Conditions"`},
		{name: "fail/lowercase-effect", kind: KindIdentity, doc: doc(`{"effect":"Allow","Action":"*","Resource":"*"}`), err: `Statement[0]: unknown element "effect"`},
		{name: "fail/missing-statement", kind: KindIdentity, doc: `{"Version":"2012-10-17"}`, err: `missing element "Statement"`},
		{name: "fail/empty-statement-array", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":[]}`, err: "empty array"},
		{name: "fail/statement-string", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":"x"}`, err: "want an object or an array"},
		{name: "fail/statement-element-not-object", kind: KindIdentity, doc: `{"Version":"2012-10-17","Statement":[1]}`, err: "Statement[0]: want an object"},
		{name: "fail/version", kind: KindIdentity, doc: `{"Version":"2012-10-18","Statement":` + allowAll + `}`, err: `Version: must be`},
		{name: "fail/version-number", kind: KindIdentity, doc: `{"Version":2012,"Statement":` + allowAll + `}`, err: `Version: want a string, got a number`},
		{name: "fail/id-not-string", kind: KindIdentity, doc: `{"Id":1,"Statement":` + allowAll + `}`, err: `Id: want a string`},
		{name: "fail/effect", kind: KindIdentity, doc: doc(`{"Effect":"allow","Action":"*","Resource":"*"}`), err: `Statement[0].Effect: must be "Allow" or "Deny"`},
		{name: "fail/missing-effect", kind: KindIdentity, doc: doc(`{"Action":"*","Resource":"*"}`), err: `missing element "Effect"`},
		{name: "fail/sid-chars", kind: KindIdentity, doc: doc(`{"Sid":"read prod","Effect":"Allow","Action":"*","Resource":"*"}`), err: "Sid: must contain only letters and digits"},
		{name: "fail/sid-duplicate", kind: KindIdentity, doc: doc(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}`), err: `Statement[1].Sid: "A" is already`},
		{name: "fail/no-action", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Resource":"*"}`), err: `missing element "Action" or "NotAction"`},
		{name: "fail/action-and-not-action", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}`), err: "both Action and NotAction"},
		{name: "fail/action-empty-array", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":[],"Resource":"*"}`), err: "Statement[0].Action: must not be an empty array"},
		{name: "fail/action-no-service", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"GetSecretValue","Resource":"*"}`), err: `Statement[0].Action[0]: want "*" or "service:Action"`},
		{name: "fail/action-wildcard-service", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*:Get*","Resource":"*"}`), err: "service prefix"},
		{name: "fail/action-bad-char", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":["s3:Get","s3:Get Object"],"Resource":"*"}`), err: "Statement[0].Action[1]: action name"},
		{name: "fail/action-number", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":[1],"Resource":"*"}`), err: "Statement[0].Action[0]: want a string, got a number"},
		{name: "fail/action-object", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":{"a":"b"},"Resource":"*"}`), err: "Statement[0].Action: want a string, got an object"},
		{name: "fail/action-nested-array", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":[["s3:Get"]],"Resource":"*"}`), err: "want a string, got an array"},
		{name: "fail/no-resource", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*"}`), err: `missing element "Resource" or "NotResource"`},
		{name: "fail/resource-and-not-resource", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}`), err: "both Resource and NotResource"},
		{name: "fail/resource-not-arn", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"/prod/db"}`), err: `want "*" or an ARN`},
		{name: "fail/resource-five-parts", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3::bucket"}`), err: "6 colon-separated parts"},
		{name: "fail/resource-colon-only-in-variable", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3::${aws:username}"}`), err: "6 colon-separated parts"},
		{name: "fail/resource-unterminated-variable", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}`), err: "unterminated policy variable"},
		{name: "fail/resource-bad-variable", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${username}"}`), err: "policy variable"},
		{name: "fail/resource-variable-unquoted-default", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username, x}"}`), err: "quoted"},
		{name: "fail/identity-principal", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), err: "Statement[0].Principal: not allowed in an identity policy"},
		{name: "fail/identity-not-principal", kind: KindIdentity, doc: doc(`{"Effect":"Deny","NotPrincipal":"*","Action":"*","Resource":"*"}`), err: "not allowed in an identity policy"},
		{name: "fail/resource-no-principal", kind: KindResource, doc: doc(allowAll), err: `missing element "Principal"`},
		{name: "fail/resource-principal-and-not", kind: KindResource, doc: doc(`{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}`), err: "both Principal and NotPrincipal"},
		{name: "fail/resource-no-resource", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"*"}`), err: `missing element "Resource"`},
		{name: "fail/not-principal-allow", kind: KindResource, doc: doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), err: `only allowed with "Effect": "Deny"`},
		{name: "fail/principal-string", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":"111122223333","Action":"*","Resource":"*"}`), err: `a string principal must be "*"`},
		{name: "fail/principal-empty-object", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}`), err: "at least one principal"},
		{name: "fail/principal-unknown-type", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"aws":"*"},"Action":"*","Resource":"*"}`), err: `unknown principal type "aws"`},
		{name: "fail/principal-wildcard-arn", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}`), err: "wildcards are not allowed"},
		{name: "fail/principal-short-account", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"11112222333"},"Action":"*","Resource":"*"}`), err: "Statement[0].Principal.AWS[0]: want"},
		{name: "fail/principal-non-iam-arn", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::bucket"},"Action":"*","Resource":"*"}`), err: "IAM principal ARN"},
		{name: "fail/principal-service-wildcard", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"*","Resource":"*"}`), err: "wildcards are not allowed"},
		{name: "fail/principal-null", kind: KindResource, doc: doc(`{"Effect":"Allow","Principal":null,"Action":"*","Resource":"*"}`), err: "want \"*\" or an object, got null"},
		{name: "fail/trust-not-sts", kind: KindTrust, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue"}`), err: "only name sts actions"},
		{name: "fail/trust-star-action", kind: KindTrust, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"*"}`), err: "only name sts actions"},
		{name: "fail/trust-not-principal", kind: KindTrust, doc: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), err: "not allowed in a trust policy"},
		{name: "fail/trust-no-principal", kind: KindTrust, doc: doc(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), err: `missing element "Principal"`},
		{name: "fail/condition-not-object", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}`), err: "Condition: want an object"},
		{name: "fail/condition-unknown-operator", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}`), err: `Statement[0].Condition.StringEqual["aws:username"]: unknown condition operator "StringEqual"`},
		{name: "fail/condition-operator-case", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringEquals":{"aws:username":"a"}}}`), err: "unknown condition operator"},
		{name: "fail/condition-bad-set-prefix", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}}`), err: "unknown condition operator"},
		{name: "fail/condition-bare-ifexists", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IfExists":{"aws:username":"a"}}}`), err: "unknown condition operator"},
		{name: "fail/condition-null-ifexists", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}`), err: "Null operator cannot take IfExists"},
		{name: "fail/condition-null-set", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:Null":{"aws:TagKeys":"true"}}}`), err: "Null operator cannot take"},
		{name: "fail/condition-null-value", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:username":"yes"}}}`), err: `want "true" or "false"`},
		{name: "fail/condition-empty-operator", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}`), err: "at least one condition key"},
		{name: "fail/condition-key-no-prefix", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}`), err: `condition key must be "service:name"`},
		{name: "fail/condition-key-bad-char", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:user name":"a"}}}`), err: "condition key name"},
		{name: "ok/condition-key-with-inner-key", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:*:*:secret:*","kms:EncryptionContext:aws:pi:service":"rds"}}}`)},
		{name: "fail/condition-key-empty-inner-key", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:":"a"}}}`), err: "malformed key after its name"},
		{name: "fail/condition-key-inner-key-and-tag", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:a/b":"a"}}}`), err: "malformed key after its name"},
		{name: "fail/condition-key-inner-key-bad-char", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:a*b":"a"}}}`), err: "condition key tag"},
		{name: "fail/condition-key-empty-tag", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/":"a"}}}`), err: "condition key tag"},
		{name: "fail/condition-key-variable-in-tag", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/${aws:username}":"a"}}}`), err: "condition key tag"},
		{name: "fail/condition-value-null", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}`), err: "want a string, number or boolean, got null"},
		{name: "fail/condition-value-object", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":"b"}}}}`), err: "got an object"},
		{name: "fail/condition-value-empty-array", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}`), err: "empty array"},
		{name: "fail/condition-numeric", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"one hour"}}}`), err: `[0]: want a number`},
		{name: "fail/condition-numeric-inf", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":1e999}}}`), err: `want a number`},
		{name: "fail/condition-date", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), err: "ISO 8601"},
		{name: "fail/condition-bool", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), err: `want "true" or "false"`},
		{name: "fail/condition-ip", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), err: "CIDR"},
		{name: "fail/condition-binary", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"k:bin":"not base64!"}}}`), err: "base64"},
		{name: "fail/condition-arn", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"*"}}}`), err: "6 colon-separated parts"},
		{name: "fail/condition-bad-variable", kind: KindIdentity, doc: doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"${aws:PrincipalTag/}"}}}`), err: "policy variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc), tt.kind)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Parse() error: %v", err)
				}
				if p.Kind() != tt.kind {
					t.Errorf("Kind() = %v, want %v", p.Kind(), tt.kind)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse() = %s, want error containing %q", p, tt.err)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Parse() error %T, want *MalformedError", err)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse() error = %q, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	p, err := Parse([]byte(`{"Id":"x","Statement":{"Sid":"S1","Effect":"Allow","Principal":{"AWS":"111122223333"},
		"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"k:n":[1.50,2]},"Bool":{"k:b":true},"StringEquals":{"k:s":"v"}}}}`), KindTrust)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Version2008 || p.ID != "x" || len(p.Statements) != 1 {
		t.Fatalf("Parse() = %+v", p)
	}
	s := p.Statements[0]
	if s.Sid != "S1" || s.Effect != "Allow" || s.Principal == nil || len(s.Principal.AWS) != 1 || s.Resource != nil {
		t.Errorf("statement = %+v", s)
	}
	want := []Condition{
		{Operator: "NumericLessThan", Key: "k:n", Values: []string{"1.50", "2"}},
		{Operator: "Bool", Key: "k:b", Values: []string{"true"}},
		{Operator: "StringEquals", Key: "k:s", Values: []string{"v"}},
	}
	if len(s.Conditions) != len(want) {
		t.Fatalf("Conditions = %+v, want %+v", s.Conditions, want)
	}
	for i := range want {
		got := s.Conditions[i]
		if got.Operator != want[i].Operator || got.Key != want[i].Key || strings.Join(got.Values, ",") != strings.Join(want[i].Values, ",") {
			t.Errorf("Conditions[%d] = %+v, want %+v", i, got, want[i])
		}
	}
	const canonical = `{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"S1","Effect":"Allow","Principal":{"AWS":["111122223333"]},"Action":["sts:AssumeRole"],"Condition":{"NumericLessThan":{"k:n":["1.50","2"]},"Bool":{"k:b":["true"]},"StringEquals":{"k:s":["v"]}}}]}`
	if got := p.String(); got != canonical {
		t.Errorf("String() =\n%s\nwant\n%s", got, canonical)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindIdentity: "identity", KindResource: "resource", KindTrust: "trust", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
