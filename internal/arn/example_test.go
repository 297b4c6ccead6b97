package arn_test

import (
	"fmt"

	"github.com/shortfuse/shortfuse/internal/arn"
)

func ExampleParse() {
	a, err := arn.Parse("arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Service, a.Region, a.Account)
	fmt.Println(a.Resource)
	fmt.Println(a)
	// Output:
	// secretsmanager us-east-1 111122223333
	// secret:/prod/db-AbCdEf
	// arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf
}

func ExampleMatch() {
	fmt.Println(arn.Match("secretsmanager:Get*", "secretsmanager:GetSecretValue", false))
	fmt.Println(arn.Match("SecretsManager:get*", "secretsmanager:GetSecretValue", true))
	fmt.Println(arn.Match("arn:aws:secretsmanager:us-east-1:*:secret:/prod/*", "arn:aws:secretsmanager:us-east-1:111122223333:secret:/dev/db", false))
	// Output:
	// true
	// true
	// false
}

func ExampleMatchARN() {
	// Each of the six parts is matched on its own: '*' in the region does not reach into the account.
	fmt.Println(arn.MatchARN("arn:aws:iam::*:role/ci-*", "arn:aws:iam::111122223333:role/ci-deploy"))
	fmt.Println(arn.MatchARN("arn:aws:iam:*:role/ci-*", "arn:aws:iam::111122223333:role/ci-deploy"))
	// Output:
	// true
	// false
}
