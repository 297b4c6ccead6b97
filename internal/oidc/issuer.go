package oidc

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// MaxIssuerLen is the longest issuer URL accepted, as IAM's
// OpenIDConnectProviderUrlType allows.
const MaxIssuerLen = 255

// NormalizeIssuer checks an issuer URL and returns its canonical form:
// "https://" + lower-cased host (and port, if any) + path without a trailing
// slash. The scheme must be https, or http for a loopback host (127.0.0.0/8,
// ::1, localhost). User info, a query, a fragment, escaped characters and
// empty, "." or ".." path segments are refused; the path is limited to
// [A-Za-z0-9._~-] segments.
//
// The same issuer written with and without a trailing slash, or with its
// host in another case, normalizes to the same string; anything else is
// compared exactly, as OpenID Connect Discovery requires.
func NormalizeIssuer(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("issuer URL is empty")
	}
	if len(raw) > MaxIssuerLen {
		return "", errors.New("issuer URL is longer than 255 characters")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c >= 0x7f {
			return "", errors.New("issuer URL must be printable ASCII without spaces")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("issuer URL does not parse")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("issuer URL must be https://host[/path]")
	case u.User != nil:
		return "", errors.New("issuer URL must not contain user information")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("issuer URL must not contain a query")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", errors.New("issuer URL must not contain a fragment")
	case u.RawPath != "" || strings.Contains(raw, "%"):
		return "", errors.New("issuer URL must not contain escaped characters")
	}
	host := strings.ToLower(u.Host)
	hostname := strings.ToLower(u.Hostname())
	if hostname == "" {
		return "", errors.New("issuer URL has no host name")
	}
	if p := u.Port(); p != "" {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", errors.New("issuer URL has an invalid port")
			}
		}
	} else if strings.HasSuffix(host, ":") {
		return "", errors.New("issuer URL has an empty port")
	}
	if !validHostname(hostname) {
		return "", errors.New("issuer URL has an invalid host name")
	}
	if reservedPrefixes[hostname] {
		// Its condition keys ("aws:sub") would read as the service's own.
		return "", errors.New("issuer URL host must not be a service prefix such as aws or sts")
	}
	switch scheme {
	case "https":
	case "http":
		if !isLoopback(hostname) {
			return "", errors.New("issuer URL must use https (plain http is accepted only for loopback hosts)")
		}
	default:
		return "", errors.New("issuer URL must use https")
	}
	path := strings.TrimSuffix(u.Path, "/")
	if path != "" {
		for _, seg := range strings.Split(path[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", errors.New("issuer URL path has an empty, '.' or '..' segment")
			}
			for i := 0; i < len(seg); i++ {
				if c := seg[i]; !(isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
					return "", errors.New("issuer URL path must be segments of [A-Za-z0-9._~-]")
				}
			}
		}
	}
	return scheme + "://" + host + path, nil
}

// ConditionPrefix is the provider name of a normalized issuer: the URL
// without its scheme ("token.actions.githubusercontent.com",
// "gitlab.example.com/gitlab"). IAM names the provider
// "arn:aws:iam::ACCOUNT:oidc-provider/" + ConditionPrefix, and the trust
// policy condition keys of its tokens are ConditionPrefix + ":" + claim.
func ConditionPrefix(issuer string) string {
	_, rest, ok := strings.Cut(issuer, "://")
	if !ok {
		return issuer
	}
	return rest
}

func validHostname(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if ip := net.ParseIP(h); ip != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(isAlnum(c) || c == '-') {
				return false
			}
		}
	}
	return true
}

// reservedPrefixes are condition-key prefixes of services; an issuer named
// like one would make claim keys that shadow the service's keys.
var reservedPrefixes = map[string]bool{"aws": true, "sts": true, "iam": true, "secretsmanager": true, "shortfuse": true}

// isLoopback reports whether a host name (without port) is a loopback host.
func isLoopback(hostname string) bool {
	hostname = strings.TrimSuffix(strings.TrimPrefix(hostname, "["), "]")
	if strings.EqualFold(hostname, "localhost") {
		return true
	}
	ip := net.ParseIP(hostname)
	return ip != nil && ip.IsLoopback()
}

// allowedFetchURL reports whether the broker may fetch u: https, or http to
// a loopback host, without user information.
func allowedFetchURL(u *url.URL) bool {
	if u == nil || u.User != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return isLoopback(u.Hostname())
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
