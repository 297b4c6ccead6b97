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
// Matching is by prefix, as AWS documents: case-sensitive for name,
// tag-key, tag-value and primary-region, case-insensitive for description.
// "all" splits the value into words; every word must be a case-insensitive
// prefix of the name, description, a tag key or value, or of one of their
// words (split at anything but letters and digits). No secret has an
// owning service: a positive owning-service value matches nothing.
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
		return tx.Scan(bucketSecrets, "", "", func(_ string, b []byte) (bool, error) {
			r, err := decodeRec(b)
			if err != nil {
				return false, err
			}
			if !r.live(now) || (r.scheduled() && !in.IncludePlannedDeletion) {
				return true, nil
			}
			sec := r.secret()
			if s.matches(sec, in.Filters) {
				out = append(out, sec)
			}
			return true, nil
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
		return hasPrefixFold(sec.Description, v)
	case FilterTagKey:
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Key, v) })
	case FilterTagValue:
		return slices.ContainsFunc(sec.Tags, func(t Tag) bool { return strings.HasPrefix(t.Value, v) })
	case FilterPrimaryRegion:
		return strings.HasPrefix(s.region, v)
	case FilterOwningService:
		return false
	case FilterAll:
		attrs := []string{sec.Name, sec.Description}
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Key, t.Value)
		}
		for _, w := range strings.Fields(v) {
			if !slices.ContainsFunc(attrs, func(a string) bool { return wordPrefix(a, w) }) {
				return false
			}
		}
		return true
	}
	return false
}

// wordPrefix reports whether w is a case-insensitive prefix of a or of one
// of its words.
func wordPrefix(a, w string) bool {
	if hasPrefixFold(a, w) {
		return true
	}
	for _, part := range strings.FieldsFunc(a, func(r rune) bool { return r >= 0x80 || !isAlnum(byte(r)) }) {
		if hasPrefixFold(part, w) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
