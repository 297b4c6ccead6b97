package secrets

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Character classes of GetRandomPassword. Punctuation is the list the
// Secrets Manager API reference gives for ExcludePunctuation.
const (
	lowerChars       = "abcdefghijklmnopqrstuvwxyz"
	upperChars       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars       = "0123456789"
	punctuationChars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// Limits of GetRandomPassword (botocore PasswordLengthType,
// ExcludeCharactersType).
const (
	DefaultPasswordLength = 32
	MaxPasswordLength     = 4096
)

// PasswordInput is the input of RandomPassword. The zero value asks for
// the defaults: 32 characters of letters, digits and punctuation, at least
// one of each.
type PasswordInput struct {
	Length             int // 0: DefaultPasswordLength
	ExcludeCharacters  string
	ExcludeNumbers     bool
	ExcludePunctuation bool
	ExcludeUppercase   bool
	ExcludeLowercase   bool
	IncludeSpace       bool
	// RequireEachIncludedType: nil means true (AWS's default).
	RequireEachIncludedType *bool
}

// RandomPassword returns a password drawn uniformly from the included
// characters (GetRandomPassword). With RequireEachIncludedType, it holds at
// least one character of each included class (lower case, upper case,
// digits, punctuation, and space if included).
func (s *Service) RandomPassword(in PasswordInput) (Value, error) {
	n := in.Length
	if n == 0 {
		n = DefaultPasswordLength
	}
	if n < 1 || n > MaxPasswordLength {
		return Value{}, validationf("passwordLength", "Member must have value between 1 and %d", MaxPasswordLength)
	}
	if len(in.ExcludeCharacters) > MaxPasswordLength {
		return Value{}, validationf("excludeCharacters", "Member must have length less than or equal to %d", MaxPasswordLength)
	}
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(in.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, set)
	}
	var classes []string
	add := func(exclude bool, set string) {
		if set = keep(set); !exclude && set != "" {
			classes = append(classes, set)
		}
	}
	add(in.ExcludeLowercase, lowerChars)
	add(in.ExcludeUppercase, upperChars)
	add(in.ExcludeNumbers, digitChars)
	add(in.ExcludePunctuation, punctuationChars)
	add(!in.IncludeSpace, " ")
	if len(classes) == 0 {
		return Value{}, newErr(ErrInvalidParameter, "The password cannot be generated: every character is excluded.")
	}
	require := in.RequireEachIncludedType == nil || *in.RequireEachIncludedType
	if require && n < len(classes) {
		return Value{}, newErr(ErrInvalidParameter, "The password length %d is too short to include a character of each of the %d included types.", n, len(classes))
	}
	all := strings.Join(classes, "")
	out := make([]byte, n)
	for i := range out {
		c, err := pick(s.rand, all)
		if err != nil {
			return Value{}, err
		}
		out[i] = c
	}
	if require {
		// Put one character of each class at distinct random positions.
		pos := make([]int, n)
		for i := range pos {
			pos[i] = i
		}
		for i, set := range classes {
			j, err := randInt(s.rand, n-i)
			if err != nil {
				return Value{}, err
			}
			pos[i], pos[i+j] = pos[i+j], pos[i]
			c, err := pick(s.rand, set)
			if err != nil {
				return Value{}, err
			}
			out[pos[i]] = c
		}
	}
	return Value{data: out}, nil
}

func randInt(r io.Reader, n int) (int, error) {
	v, err := rand.Int(r, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("random: %w", err)
	}
	return int(v.Int64()), nil
}

func pick(r io.Reader, set string) (byte, error) {
	i, err := randInt(r, len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		c, err := pick(r, alphabet)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	return string(b), nil
}
