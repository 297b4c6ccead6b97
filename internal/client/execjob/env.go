package execjob

import (
	"slices"
	"strings"
)

// NestingGuard is set in the child's environment; [Nested] finds it.
const NestingGuard = "SHORTFUSE_EXEC"

// dropped reports whether an inherited variable is removed from the
// child's environment: every AWS_* variable (credentials, profiles,
// endpoints: exec sets the ones the child should have) and the token that
// was given to exec.
func dropped(name string) bool {
	return strings.HasPrefix(name, "AWS_") || name == "SHORTFUSE_TOKEN" || name == NestingGuard
}

// CleanEnv returns environ without the variables exec manages, followed by
// set (NAME=VALUE entries, which win over anything inherited). The result
// has each name once.
func CleanEnv(environ []string, set []string) []string {
	override := make(map[string]bool, len(set))
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		override[name] = true
	}
	out := make([]string, 0, len(environ)+len(set))
	seen := make(map[string]bool)
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || dropped(name) || override[name] || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, kv)
	}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		if seen[name] {
			// A name set twice: the last one wins.
			i := slices.IndexFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
			out = slices.Delete(out, i, i+1)
		}
		seen[name] = true
		out = append(out, kv)
	}
	return out
}

// Nested reports whether getenv shows that we already run inside shortfuse
// exec.
func Nested(getenv func(string) string) bool { return getenv(NestingGuard) != "" }
