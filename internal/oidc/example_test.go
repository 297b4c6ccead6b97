package oidc_test

import (
	"fmt"

	"github.com/shortfuse/shortfuse/internal/oidc"
)

// An issuer URL is normalized once; its provider name is the prefix of the
// trust-policy condition keys of its tokens.
func ExampleConditionPrefix() {
	iss, err := oidc.NormalizeIssuer("https://Jenkins.example.com/oidc/")
	if err != nil {
		panic(err)
	}
	fmt.Println(iss)
	fmt.Println(oidc.ConditionPrefix(iss) + ":sub")
	_, err = oidc.NormalizeIssuer("http://jenkins.example.com/oidc")
	fmt.Println(err)
	// Output:
	// https://jenkins.example.com/oidc
	// jenkins.example.com/oidc:sub
	// issuer URL must use https (plain http is accepted only for loopback hosts)
}
