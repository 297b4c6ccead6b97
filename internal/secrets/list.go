package secrets

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Filter keys of ListSecrets and BatchGetSecretValue (botocore
// FilterNameStringType).
const (
	FilterDescription   = "description"
	FilterName          = "name"
	FilterTagKey        = "tag-key"
	FilterTagValue      = "tag-value"
	FilterPrimaryRegion = "primary-region"
	FilterOwningService = "owning-service"
	FilterAll           = "all"
)

// Limits of filters (botocore FiltersListType, FilterValuesStringList,
// FilterValueStringType).
const (
	MaxFilters        = 10
	MaxFilterValues   = 10
	MaxFilterValueLen = 512
)

// Filter is one filter of ListSecrets: the secret matches if any value that
// does not start with "!" matches (or there is none) and no value that
// starts with "!" matches once the "!" is removed. Filters combine with
// AND.
//
// Matching follows the API reference (Filter) and the user guide ("Find
// secrets in AWS Secrets Manager"):
//
//   - name, tag-key, tag-value, primary-region, owning-service: the value
//     is a prefix of the attribute, case-sensitive;
//   - description: word prefixes, not case-sensitive: every word of the
//     value (split at white space) begins a word of the description, in
//     any order ("a secret" matches "An secret", "my desc" matches
//     "Description of my secret");
//   - all: the value is broken into words at every change from lower to
//     upper case, between letters and digits, and at anything but letters
//     and digits ("credsDatabase#892" is creds, Database, 892); a secret
//     matches if one of them begins a word of its name, description, a
//     tag key or a tag value, broken the same way; not case-sensitive.
//
// No secret has an owning service: a positive owning-service value
// matches nothing.
type Filter struct {
	Key    string
	Values []string
}

// ListInput is the input of List.
type ListInput struct {
	Filters                []Filter
	IncludePlannedDeletion bool
	// SortBy is "created-date" (the default), "last-accessed-date",
	// "last-changed-date" or "name"; ties are broken by name.
	SortBy string
	// SortOrder is "asc" (the default) or "desc".
	SortOrder string
}

// CheckFilters checks filters against the service model.
func CheckFilters(filters []Filter) error {
	if len(filters) > MaxFilters {
		return validationf("filters", "Member must have length less than or equal to %d", MaxFilters)
	}
	for _, f := range filters {
		switch f.Key {
		case FilterDescription, FilterName, FilterTagKey, FilterTagValue, FilterPrimaryRegion, FilterOwningService, FilterAll:
		default:
			return validationf("filters.member.key", "Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]")
		}
		if len(f.Values) < 1 || len(f.Values) > MaxFilterValues {
			return validationf("filters.member.values", "Member must have length between 1 and %d", MaxFilterValues)
		}
		for _, v := range f.Values {
			if len(v) > MaxFilterValueLen {
				return validationf("filters.member.values.member", "Member must have length less than or equal to %d", MaxFilterValueLen)
			}
			for i := 0; i < len(v); i++ {
				c := v[i]
				if !isAlnum(c) && !strings.ContainsRune(" :_@/+=.-!", rune(c)) {
					return validationf("filters.member.values.member", `Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`)
				}
			}
		}
	}
	return nil
}

// List returns the secrets that match every filter, sorted. Secrets
// scheduled for deletion are left out unless IncludePlannedDeletion.
func (s *Service) List(ctx context.Context, in ListInput) ([]*Secret, error) {
	if err := CheckFilters(in.Filters); err != nil {
		return nil, err
	}
	switch in.SortBy {
	case "", "created-date", "last-accessed-date", "last-changed-date", "name":
	default:
		return nil, validationf("sortBy", "Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]")
	}
	switch in.SortOrder {
	case "", "asc", "desc":
	default:
		return nil, validationf("sortOrder", "Member must satisfy enum value set: [asc, desc]")
	}
	now := s.now()
	var out []*Secret
	err := s.st.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		return scanRecs(tx, func(r *secretRec) {
			if !r.live(now) || (r.scheduled() && !in.IncludePlannedDeletion) {
				return
			}
			sec := r.secret()
			if s.matches(sec, in.Filters) {
				out = append(out, sec)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	key := func(a *Secret) time.Time { return a.Created }
	switch in.SortBy {
	case "last-accessed-date":
		key = func(a *Secret) time.Time { return a.LastAccessed }
	case "last-changed-date":
		key = func(a *Secret) time.Time { return a.LastChanged }
	}
	slices.SortFunc(out, func(a, b *Secret) int {
		c := 0
		if in.SortBy != "name" {
			c = key(a).Compare(key(b))
		}
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		}
		if in.SortOrder == "desc" {
			c = -c
		}
		return c
	})
	return out, nil
}

func (s *Service) matches(sec *Secret, filters []Filter) bool {
	for _, f := range filters {
		positive, anyPositive := false, false
		for _, v := range f.Values {
			neg := strings.HasPrefix(v, "!")
			if neg {
				if s.matchValue(sec, f.Key, v[1:]) {
					return false
				}
				continue
			}
			anyPositive = true
			if s.matchValue(sec, f.Key, v) {
				positive = true
			}
		}
		if anyPositive && !positive {
			return false
		}
	}
	return true
}

func (s *Service) matchValue(sec *Secret, key, v string) bool {
	switch key {
	case FilterName:
		return strings.HasPrefix(sec.Name, v)
	case FilterDescription:
		words := strings.Fields(sec.Description)
		for _, w := range strings.Fields(v) {
			if !slices.ContainsFunc(words, func(d string) bool { return hasPrefixFold(d, w) }) {
				return false
			}
		}
		return true
	case FilterTagKey:
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Key, v) })
	case FilterTagValue:
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Value, v) })
	case FilterPrimaryRegion:
		return strings.HasPrefix(s.region, v)
	case FilterOwningService:
		return false
	case FilterAll:
		var words []string
		for _, a := range append([]string{sec.Name, sec.Description}, tagStrings(sec.Tags)...) {
			words = append(words, searchWords(a)...)
		}
		for _, w := range searchWords(v) {
			if slices.ContainsFunc(words, func(a string) bool { return hasPrefixFold(a, w) }) {
				return true
			}
		}
		return false
	}
	return false
}

func tagStrings(tags []Tag) []string {
	out := make([]string, 0, 2*len(tags))
	for _, t := range tags {
		out = append(out, t.Key, t.Value)
	}
	return out
}

// searchWords breaks s into the words of Secrets Manager's search: runs of
// ASCII letters and digits, split again where a lower-case letter is
// followed by an upper-case one and between letters and digits.
func searchWords(s string) []string {
	var words []string
	start := -1
	class := func(c byte) int {
		switch {
		case 'a' <= c && c <= 'z':
			return 1
		case 'A' <= c && c <= 'Z':
			return 2
		case '0' <= c && c <= '9':
			return 3
		}
		return 0
	}
	for i := 0; i <= len(s); i++ {
		c := 0
		if i < len(s) {
			c = class(s[i])
		}
		if start >= 0 {
			p := class(s[i-1])
			boundary := c == 0 || (p == 1 && c == 2) || (p == 3) != (c == 3)
			if boundary {
				words = append(words, s[start:i])
				start = -1
			}
		}
		if start < 0 && c != 0 {
			start = i
		}
	}
	return words
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
