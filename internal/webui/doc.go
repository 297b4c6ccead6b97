// Package webui is the broker's approval page, served at /ui/: approvers
// sign in with their IAM user's password and a TOTP code, see the pending
// approval requests with their build details, approve or deny them, and
// revoke their own live sessions and the sessions they lent.
//
// The page is plain server-rendered HTML (html/template) with one embedded
// stylesheet and no script at all. It knows nothing of IAM or the store: a
// [Backend] (package server's adapter) signs in, lists, decides and
// revokes, and audits each step as the API does.
//
// # What it refuses
//
//   - Plain HTTP on a non-loopback address: a password would cross the
//     network in clear. The check looks at the address the connection came
//     in on, not at headers a proxy could forge.
//   - Forged posts: every form carries a CSRF token (the session's own
//     random token after sign-in; an HMAC of a pre-session cookie before),
//     compared in constant time; a post whose Origin is another site is
//     refused before that.
//   - Framing, inline script and style, foreign sources and referrers: a
//     strict Content-Security-Policy (default-src 'none'), frame-ancestors
//     'none', no referrer to other sites, no-store.
//   - Stale sessions: the cookie (__Host- prefixed, Secure, HttpOnly,
//     SameSite=Strict) names a server-side session that ends after a short
//     idle time (10 minutes by default), when its broker session ends or is
//     revoked, or at sign-out.
//   - Guessing: sign-in failures are counted per user name and per address;
//     past a few, further attempts are refused for a while, whatever the
//     password.
//
// Use [New] and mount the result at /ui/.
package webui
