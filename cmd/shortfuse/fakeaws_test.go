package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/sigv4"
)

// fakeAWS is a small stand-in for the broker in the command's script
// tests: STS (GetSessionToken, AssumeRole, GetCallerIdentity), Secrets
// Manager (Get/BatchGet/Put/CreateSecret) and the shortfuse service. It
// verifies every signature with the broker's own verifier and keeps
// sessions with their expiry, revocation, use limit and heartbeats. The
// end-to-end tests run the real broker; this one lets the scripts pin the
// client's behaviour (exit codes, signals, masking, environment) fast and
// without the broker's setup.
type fakeAWS struct {
	mu       sync.Mutex
	verifier *sigv4.Verifier
	keys     map[string]string // long-term access key id -> secret
	sessions map[string]*fakeSession
	secrets  map[string]*fakeSecret
	calls    map[string]int
	noBroker bool // answer UnknownOperationException for shortfuse.*
	next     int
}

type fakeSession struct {
	akid, secret, token string
	principal           string
	exp                 time.Time
	revoked             bool
	maxUses, uses       int
	heartbeats          int
	grace               int
}

type fakeSecret struct {
	name     string
	str      *string
	bin      []byte
	versions int
}

const (
	fakeAccount     = "111122223333"
	fakeAdminKey    = "AKIAFAKEADMIN0000000"
	fakeAdminSecret = "fakeAdminSecretKey0000000000000000000000"
)

func newFakeAWS() *fakeAWS {
	f := &fakeAWS{
		verifier: sigv4.NewVerifier(),
		keys:     map[string]string{fakeAdminKey: fakeAdminSecret},
		sessions: make(map[string]*fakeSession),
		secrets:  make(map[string]*fakeSecret),
		calls:    make(map[string]int),
	}
	f.putSecret("/prod/db", `{"user":"app-user","password":"hunter2-pw"}`)
	f.putSecret("/prod/api", "sk_live_abcdef123456")
	f.putSecret("/prod/cert", "-----BEGIN CERT-----\nMIIBlineONEofTHEcert\nMIIBlineTWOofTHEcert\n-----END CERT-----")
	f.putSecret("/prod/short", "abc")
	return f
}

func (f *fakeAWS) putSecret(name, value string) {
	s := f.secrets[name]
	if s == nil {
		s = &fakeSecret{name: name}
		f.secrets[name] = s
	}
	s.str, s.bin = &value, nil
	s.versions++
}

// mint creates a session for principal living d.
func (f *fakeAWS) mint(principal string, d time.Duration, maxUses int) *fakeSession {
	f.next++
	s := &fakeSession{
		akid:      fmt.Sprintf("ASIAFAKE%012d", f.next),
		secret:    fmt.Sprintf("fakeSessionSecret%023d", f.next),
		token:     fmt.Sprintf("faketoken.%d.%s", f.next, strings.Repeat("Zm9v", 20)),
		principal: principal,
		exp:       time.Now().Add(d).Truncate(time.Second),
		maxUses:   maxUses,
	}
	f.sessions[s.akid] = s
	return s
}

func (s *fakeSession) jenkins() string { return s.token + ":" + s.akid + ":" + s.secret }

type fakeErr struct {
	code   string
	msg    string
	status int
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	json11 := r.Header.Get("X-Amz-Target") != ""
	var (
		service, op string
		form        url.Values
	)
	if json11 {
		prefix, action, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		service, op = map[string]string{"secretsmanager": "secretsmanager", "shortfuse": "shortfuse"}[prefix], action
	} else {
		form, _ = url.ParseQuery(string(body))
		service, op = "sts", form.Get("Action")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[service+":"+op]++
	out, ferr := f.handle(r, body, service, op, form)
	if ferr != nil {
		if json11 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(ferr.status)
			code := ferr.code
			if code == "ExpiredToken" {
				code = "ExpiredTokenException"
			}
			json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": ferr.msg})
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(ferr.status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, ferr.code, ferr.msg)
		return
	}
	if json11 {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(out)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`, op, op, out, op, op)
}

func (f *fakeAWS) handle(r *http.Request, body []byte, service, op string, form url.Values) (any, *fakeErr) {
	if service == "" || (service == "shortfuse" && f.noBroker) {
		return nil, &fakeErr{"UnknownOperationException", "Unrecognized operation", 400}
	}
	a, err := sigv4.Parse(r)
	if err != nil {
		return nil, &fakeErr{"MissingAuthenticationToken", "not signed", 403}
	}
	var (
		secret  string
		sess    *fakeSession
		longKey bool
	)
	if s, ok := f.keys[a.AccessKeyID]; ok {
		secret, longKey = s, true
	} else if s := f.sessions[a.AccessKeyID]; s != nil && a.SecurityToken == s.token {
		secret, sess = s.secret, s
	} else {
		return nil, &fakeErr{"InvalidClientTokenId", "The security token included in the request is invalid.", 403}
	}
	if err := f.verifier.Verify(r, a, secret, sigv4.Options{Region: "us-east-1", Service: service, Now: time.Now(), MaxSkew: 5 * time.Minute, Body: body}); err != nil {
		return nil, &fakeErr{"SignatureDoesNotMatch", "signature", 403}
	}
	if sess != nil {
		switch {
		case sess.revoked:
			return nil, &fakeErr{"ExpiredToken", "The security token included in the request is expired: the session was revoked", 400}
		case time.Now().After(sess.exp):
			return nil, &fakeErr{"ExpiredToken", "The security token included in the request is expired", 400}
		case service != "shortfuse" && sess.maxUses > 0 && sess.uses >= sess.maxUses:
			return nil, &fakeErr{"ExpiredToken", "The security token included in the request is expired: the session is used up", 400}
		}
		if service != "shortfuse" {
			sess.uses++
		}
	}
	principal := "arn:aws:iam::" + fakeAccount + ":user/admin"
	if sess != nil {
		principal = sess.principal
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	str := func(k string) string { s, _ := in[k].(string); return s }

	switch service + ":" + op {
	case "sts:GetCallerIdentity":
		return fmt.Sprintf("<Arn>%s</Arn><UserId>AIDAFAKE</UserId><Account>%s</Account>", principal, fakeAccount), nil
	case "sts:GetSessionToken", "sts:AssumeRole":
		if !longKey && op == "GetSessionToken" {
			return nil, &fakeErr{"AccessDenied", "no GetSessionToken from a session", 403}
		}
		d := 3600 * time.Second
		if v := form.Get("DurationSeconds"); v != "" {
			var n int
			fmt.Sscan(v, &n)
			d = time.Duration(n) * time.Second
		}
		maxUses := 0
		extra := ""
		if op == "AssumeRole" {
			principal = "arn:aws:sts::" + fakeAccount + ":assumed-role/" + strings.TrimPrefix(form.Get("RoleArn"), "arn:aws:iam::"+fakeAccount+":role/") + "/" + form.Get("RoleSessionName")
			for i := 1; form.Get(fmt.Sprintf("Tags.member.%d.Key", i)) != ""; i++ {
				if form.Get(fmt.Sprintf("Tags.member.%d.Key", i)) == "shortfuse:max-uses" {
					fmt.Sscan(form.Get(fmt.Sprintf("Tags.member.%d.Value", i)), &maxUses)
				}
			}
			extra = fmt.Sprintf("<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>", principal, form.Get("RoleSessionName"))
		}
		if form.Get("SerialNumber") != "" && form.Get("TokenCode") != "123456" {
			return nil, &fakeErr{"AccessDenied", "MFA failed", 403}
		}
		s := f.mint(principal, d, maxUses)
		return fmt.Sprintf("<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>%s",
			s.akid, s.secret, s.token, s.exp.UTC().Format(time.RFC3339), extra), nil
	case "secretsmanager:GetSecretValue":
		s := f.secrets[str("SecretId")]
		if s == nil {
			return nil, &fakeErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400}
		}
		return secretJSON(s), nil
	case "secretsmanager:BatchGetSecretValue":
		var vals []any
		var errs []any
		ids, _ := in["SecretIdList"].([]any)
		for _, id := range ids {
			if s := f.secrets[id.(string)]; s != nil {
				vals = append(vals, secretJSON(s))
			} else {
				errs = append(errs, map[string]string{"SecretId": id.(string), "ErrorCode": "ResourceNotFoundException", "Message": "not found"})
			}
		}
		return map[string]any{"SecretValues": vals, "Errors": errs}, nil
	case "secretsmanager:PutSecretValue", "secretsmanager:CreateSecret":
		name := str("SecretId")
		if op == "CreateSecret" {
			name = str("Name")
		} else if f.secrets[name] == nil {
			return nil, &fakeErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400}
		}
		if v := str("SecretString"); v != "" {
			f.putSecret(name, v)
		} else {
			b, _ := base64.StdEncoding.DecodeString(str("SecretBinary"))
			f.putSecret(name, "")
			f.secrets[name].str, f.secrets[name].bin = nil, b
		}
		return map[string]any{"ARN": secretArn(name), "Name": name, "VersionId": fmt.Sprintf("v%d-%s", f.secrets[name].versions, strings.Repeat("0", 8))}, nil
	case "shortfuse:Heartbeat":
		if sess == nil {
			return nil, &fakeErr{"InvalidRequestException", "needs a session", 400}
		}
		sess.heartbeats++
		g, _ := in["GraceSeconds"].(float64)
		sess.grace = int(g)
		return map[string]any{"Expiration": sess.exp.Unix(), "Deadline": time.Now().Add(time.Duration(g) * time.Second).Unix()}, nil
	case "shortfuse:NarrowSession":
		if sess == nil {
			return nil, &fakeErr{"InvalidRequestException", "needs a session", 400}
		}
		if n, ok := in["MaxUses"].(float64); ok && (sess.maxUses == 0 || int(n) < sess.maxUses) {
			sess.maxUses = int(n)
		}
		return map[string]any{"AccessKeyId": sess.akid, "Expiration": sess.exp.Unix(), "MaxUses": sess.maxUses, "Uses": sess.uses}, nil
	case "shortfuse:RevokeSession":
		target := sess
		if k := str("AccessKeyId"); k != "" {
			target = f.sessions[k]
		}
		if target == nil {
			return nil, &fakeErr{"InvalidRequestException", "no such session", 400}
		}
		target.revoked = true
		return map[string]any{}, nil
	case "shortfuse:RevokeSessions":
		n := 0
		for _, s := range f.sessions {
			if s.principal == str("PrincipalArn") && !s.revoked {
				s.revoked = true
				n++
			}
		}
		return map[string]any{"Revoked": n}, nil
	case "shortfuse:ListSessions":
		var out []any
		keys := make([]string, 0, len(f.sessions))
		for k := range f.sessions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		all, _ := in["IncludeInactive"].(bool)
		for _, k := range keys {
			s := f.sessions[k]
			state := "active"
			if s.revoked {
				state = "revoked"
			}
			if state != "active" && !all {
				continue
			}
			out = append(out, map[string]any{"AccessKeyId": s.akid, "PrincipalArn": s.principal, "State": state, "IssuedAt": s.exp.Add(-time.Hour).Unix(), "Expiration": s.exp.Unix(), "Uses": s.uses, "MaxUses": s.maxUses})
		}
		return map[string]any{"Sessions": out}, nil
	}
	return nil, &fakeErr{"UnknownOperationException", "Unrecognized operation", 400}
}

func secretArn(name string) string {
	return "arn:aws:secretsmanager:us-east-1:" + fakeAccount + ":secret:" + name + "-AbCdEf"
}

func secretJSON(s *fakeSecret) map[string]any {
	m := map[string]any{"ARN": secretArn(s.name), "Name": s.name, "VersionId": fmt.Sprintf("v%d", s.versions)}
	if s.str != nil {
		m["SecretString"] = *s.str
	} else {
		m["SecretBinary"] = s.bin
	}
	return m
}
