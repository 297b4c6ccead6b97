package iam

import (
	"errors"

	"github.com/shortfuse/shortfuse/internal/policy"
)

const defaultCacheSize = 4096

// parse returns the parsed document, from the cache when it was seen before.
// A document the parser refuses comes back as a MalformedPolicyDocument
// *Error carrying the parser's message.
func (s *Service) parse(doc string, kind policy.Kind) (*policy.Policy, error) {
	p, err := s.cache.Parse(doc, kind)
	if err != nil {
		var me *policy.MalformedError
		if errors.As(err, &me) {
			return nil, &Error{Kind: ErrMalformedPolicyDocument, Msg: me.Msg}
		}
		return nil, &Error{Kind: ErrMalformedPolicyDocument, Msg: "Syntax errors in policy."}
	}
	return p, nil
}
