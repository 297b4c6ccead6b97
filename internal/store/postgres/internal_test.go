package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The migration runner relies on versions 1, 2, 3… without gaps or
// duplicates: a gap would hide a forgotten file, a duplicate would apply one
// of two files only.
func TestMigrationFiles(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations() = %v", err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d", m.name, m.version, i+1)
		}
		if m.sql == "" {
			t.Errorf("migration %s is empty", m.name)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		want   string
	}{
		{"ok/empty-has-no-end", "", ""},
		{"ok/ascii", "a/", "a0"},
		{"ok/last-byte", "ab", "ac"},
		{"ok/tilde", "~", "\x7f"},
		{"ok/del-to-two-bytes", "\x7f", "\u0080"},
		{"ok/multi-byte", "é", "ê"},
		{"ok/skips-surrogates", "\ud7ff", "\ue000"},
		{"ok/max-rune-carries", "a\U0010FFFF", "b"},
		{"ok/only-max-runes-has-no-end", "\U0010FFFF\U0010FFFF", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prefixEnd(tt.prefix)
			if got != tt.want {
				t.Fatalf("prefixEnd(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
			if got != "" && got <= tt.prefix {
				t.Errorf("prefixEnd(%q) = %q does not sort after the prefix", tt.prefix, got)
			}
		})
	}
}

// FuzzPrefixEnd checks the property Scan and Count rely on: for valid
// UTF-8, s has the prefix exactly when prefix <= s < prefixEnd(prefix).
func FuzzPrefixEnd(f *testing.F) {
	for _, seed := range [][2]string{{"a/", "a/1"}, {"a", "b"}, {"é", "ê"}, {"\U0010FFFF", "\U0010FFFFa"}, {"\ud7ff", "\ud7ff\ue000"}, {"", "x"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, prefix, s string) {
		if !validKey(prefix) || !validKey(s) {
			t.Skip()
		}
		end := prefixEnd(prefix)
		inRange := prefix <= s && (end == "" || s < end)
		if has := len(s) >= len(prefix) && s[:len(prefix)] == prefix; has != inRange {
			t.Errorf("prefix %q, key %q: has prefix %v, in [prefix, %q) %v", prefix, s, has, end, inRange)
		}
	})
}

func validKey(s string) bool {
	return utf8.ValidString(s) && !strings.Contains(s, "\x00")
}
