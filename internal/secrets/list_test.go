package secrets

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestSearchWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"credsDatabase#892", "creds Database 892"},
		{"My_Secret", "My Secret"},
		{"/prod/db-password", "prod db password"},
		{"ABCdef", "ABCdef"},
		{"v2beta", "v 2 beta"},
		{"café au lait", "caf au lait"},
		{"", ""},
		{"--", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(searchWords(tt.in), " "); got != tt.want {
			t.Errorf("searchWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestListFilterMatching is each filter key against the matching rules of
// the API reference (Filter) and the user guide's examples.
func TestListFilterMatching(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, s := range []struct {
		name, desc string
		tags       []Tag
	}{
		{"DatabaseSecret", "An secret for the database", []Tag{{"Production", "Prod1"}}},
		{"databaseSecret", "My Description", []Tag{{"prod", "prod"}}},
		{"MyData", "Description of my secret", []Tag{{"1 Prod", "1 Prod"}}},
		{"creds/app", "my basic description", nil},
		{"other", "", []Tag{{"team", "credsDatabase"}}},
	} {
		if _, err := f.svc.Create(ctx, CreateInput{Name: s.name, Description: s.desc, Tags: s.tags}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, key, value string
		want             string // names, sorted
	}{
		// name: prefix, case-sensitive (user guide: Data finds DatabaseSecret, not databaseSecret or MyData).
		{"name/prefix", FilterName, "Data", "DatabaseSecret"},
		{"name/case-sensitive", FilterName, "data", "databaseSecret"},
		{"name/not-inside", FilterName, "Secret", ""},
		// tag-key and tag-value: prefix, case-sensitive (Prod finds Production and Prod1, not prod or "1 Prod").
		{"tag-key/prefix", FilterTagKey, "Prod", "DatabaseSecret"},
		{"tag-key/case-sensitive", FilterTagKey, "prod", "databaseSecret"},
		{"tag-value/prefix", FilterTagValue, "Prod", "DatabaseSecret"},
		{"tag-value/not-inside", FilterTagValue, "Database", ""},
		// description: word prefixes, any order, not case-sensitive.
		{"description/word-prefix", FilterDescription, "a secret", "DatabaseSecret"},
		{"description/words-any-order", FilterDescription, "My Description", "MyData,creds/app,databaseSecret"},
		{"description/case-insensitive", FilterDescription, "DATA", "DatabaseSecret"},
		{"description/inside-a-word-does-not-match", FilterDescription, "cret", ""},
		{"description/every-word-must-match", FilterDescription, "my nothing", ""},
		// all: words broken at case changes and punctuation, any attribute, not case-sensitive.
		{"all/camel-case-value", FilterAll, "credsDatabase_892", "DatabaseSecret,databaseSecret,other,creds/app"},
		{"all/one-word", FilterAll, "basic", "creds/app"},
		{"all/attribute-words", FilterAll, "secret", "DatabaseSecret,databaseSecret,MyData"},
		{"all/none", FilterAll, "zebra", ""},
		// primary-region: prefix, case-sensitive.
		{"primary-region/prefix", FilterPrimaryRegion, "us-", "DatabaseSecret,databaseSecret,MyData,creds/app,other"},
		{"primary-region/case-sensitive", FilterPrimaryRegion, "US-", ""},
		// negation.
		{"name/negated", FilterName, "!Data", "databaseSecret,MyData,creds/app,other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.List(ctx, ListInput{Filters: []Filter{{tt.key, []string{tt.value}}}})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			want := strings.Split(tt.want, ",")
			if tt.want == "" {
				want = nil
			}
			slices.Sort(names)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("%s=%q: %v, want %v", tt.key, tt.value, names, want)
			}
		})
	}
}
