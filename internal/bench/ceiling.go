package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The ceiling answers every operation the load generator sends with a canned,
// valid AWS response and does no other work: no signature check, no policy,
// no store. The same client measured against it in the same run gives the
// most a server on this machine could deliver; the endpoint's requests/s
// divided by the ceiling's is the figure that stays meaningful on a noisy,
// shared machine.

const (
	ceilingAccount   = "123456789012"
	ceilingRequestID = "00000000-0000-4000-8000-000000000000"
	nsSTS            = "https://sts.amazonaws.com/doc/2011-06-15/"
	nsIAM            = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// cannedResponse is one precomputed answer.
type cannedResponse struct {
	contentType string
	body        []byte
}

// Ceiling is a running ceiling server on a loopback port.
type Ceiling struct {
	// URL is the base URL to use as the endpoint, http://127.0.0.1:PORT.
	URL string
	hs  *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
}

// StartCeiling starts a ceiling server on addr ("127.0.0.1:0" picks a free
// loopback port). Close stops it.
func StartCeiling(addr string) (*Ceiling, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	c := &Ceiling{
		URL: "http://" + ln.Addr().String(),
		ln:  ln,
		hs: &http.Server{
			Handler:           ceilingMux(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = c.hs.Serve(ln)
	}()
	return c, nil
}

// ceilingMux serves the canned answers and, at GET /metrics, the process's
// CPU time (process_cpu_seconds_total), as the broker does, so that a
// ceiling run in a process of its own can be measured like the broker.
func ceilingMux() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", NewCeilingHandler())
	return mux
}

// Close stops the ceiling server at once, closing its connections, and
// waits for it.
func (c *Ceiling) Close() error {
	err := c.hs.Close()
	c.wg.Wait()
	return err
}

// NewCeilingHandler returns the ceiling's HTTP handler. It answers the
// Secrets Manager operations (JSON 1.1, by X-Amz-Target) and the STS and IAM
// operations (Query, by the form's Action) that the load generator and its
// fixtures use, each with a fixed response; anything else gets the protocol's
// InvalidAction error.
func NewCeilingHandler() http.Handler {
	return &ceilingHandler{
		json:  cannedJSON(),
		query: cannedQuery(),
		pool:  sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

type ceilingHandler struct {
	json  map[string]cannedResponse // by X-Amz-Target
	query map[string]cannedResponse // by Action
	pool  sync.Pool
}

func (h *ceilingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := h.pool.Get().(*bytes.Buffer)
	buf.Reset()
	defer h.pool.Put(buf)
	// The body is read whole so that the connection can be reused, and
	// bounded so that the ceiling cannot be made to hold much.
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, 1<<20)); err != nil {
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	hdr := w.Header()
	hdr.Set("X-Amzn-Requestid", ceilingRequestID)
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		resp, ok := h.json[target]
		if !ok {
			hdr.Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"InvalidAction","message":"the ceiling does not answer this operation"}`)
			return
		}
		hdr.Set("Content-Type", resp.contentType)
		_, _ = w.Write(resp.body)
		return
	}
	action := queryAction(buf.Bytes())
	if action == "" {
		action = r.URL.Query().Get("Action")
	}
	resp, ok := h.query[action]
	if !ok {
		hdr.Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the ceiling does not answer this operation</Message></Error><RequestId>`+ceilingRequestID+`</RequestId></ErrorResponse>`)
		return
	}
	hdr.Set("Content-Type", resp.contentType)
	_, _ = w.Write(resp.body)
}

// queryAction finds the Action parameter of a form-encoded Query body
// without parsing the rest of it. It returns "" when there is none or when
// it is not plain (percent-encoded names are not ours).
func queryAction(body []byte) string {
	for len(body) > 0 {
		field := body
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			field, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if v, ok := bytes.CutPrefix(field, []byte("Action=")); ok {
			s, err := url.QueryUnescape(string(v))
			if err != nil {
				return ""
			}
			return s
		}
	}
	return ""
}

// cannedJSON builds the Secrets Manager responses (shapes from botocore's
// secretsmanager service-2.json).
func cannedJSON() map[string]cannedResponse {
	const (
		arn     = "arn:aws:secretsmanager:us-east-1:" + ceilingAccount + ":secret:shortfuse-bench/ceiling-AbCdEf"
		name    = "shortfuse-bench/ceiling"
		version = "01234567-89ab-4cde-8f01-23456789abcd"
		created = "1.767225600E9"
	)
	// A value of the size the load generator stores.
	value := strings.Repeat("x", fixtureValueSize)
	ops := map[string]string{
		"CreateSecret":   `{"ARN":"` + arn + `","Name":"` + name + `","VersionId":"` + version + `"}`,
		"GetSecretValue": `{"ARN":"` + arn + `","Name":"` + name + `","VersionId":"` + version + `","SecretString":"` + value + `","VersionStages":["AWSCURRENT"],"CreatedDate":` + created + `}`,
		"PutSecretValue": `{"ARN":"` + arn + `","Name":"` + name + `","VersionId":"` + version + `","VersionStages":["AWSCURRENT"]}`,
		"DescribeSecret": `{"ARN":"` + arn + `","Name":"` + name + `","CreatedDate":` + created + `,"VersionIdsToStages":{"` + version + `":["AWSCURRENT"]}}`,
		"DeleteSecret":   `{"ARN":"` + arn + `","Name":"` + name + `","DeletionDate":` + created + `}`,
	}
	m := make(map[string]cannedResponse, len(ops))
	for op, body := range ops {
		m["secretsmanager."+op] = cannedResponse{contentType: "application/x-amz-json-1.1", body: []byte(body)}
	}
	return m
}

// cannedQuery builds the STS and IAM responses (shapes from botocore's sts
// and iam service-2.json, in the Query protocol's XML wrapping).
func cannedQuery() map[string]cannedResponse {
	const (
		userARN   = "arn:aws:iam::" + ceilingAccount + ":user/shortfuse-bench-ceiling"
		roleARN   = "arn:aws:iam::" + ceilingAccount + ":role/shortfuse-bench-ceiling"
		groupARN  = "arn:aws:iam::" + ceilingAccount + ":group/shortfuse-bench-ceiling"
		policyARN = "arn:aws:iam::" + ceilingAccount + ":policy/shortfuse-bench-ceiling"
		created   = "2026-01-01T00:00:00Z"
		expires   = "2036-01-01T00:00:00Z"
		// Sizes like the broker's: a 20-character key id, a 40-character
		// secret and a session token of a few hundred characters.
		sessionKeyID = "ASIAEXAMPLEEXAMPLE01"
		accessKeyID  = "AKIAEXAMPLEEXAMPLE01"
	)
	secretKey := strings.Repeat("s", 40)
	token := strings.Repeat("t", 400)
	creds := `<Credentials><AccessKeyId>` + sessionKeyID + `</AccessKeyId><SecretAccessKey>` + secretKey +
		`</SecretAccessKey><SessionToken>` + token + `</SessionToken><Expiration>` + expires + `</Expiration></Credentials>`
	user := `<User><Path>/</Path><UserName>shortfuse-bench-ceiling</UserName><UserId>AIDAEXAMPLEEXAMPLE01</UserId><Arn>` + userARN + `</Arn><CreateDate>` + created + `</CreateDate></User>`
	group := `<Group><Path>/</Path><GroupName>shortfuse-bench-ceiling</GroupName><GroupId>AGPAEXAMPLEEXAMPLE01</GroupId><Arn>` + groupARN + `</Arn><CreateDate>` + created + `</CreateDate></Group>`
	policy := `<Policy><PolicyName>shortfuse-bench-ceiling</PolicyName><PolicyId>ANPAEXAMPLEEXAMPLE01</PolicyId><Arn>` + policyARN +
		`</Arn><Path>/</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>0</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>` +
		`<IsAttachable>true</IsAttachable><CreateDate>` + created + `</CreateDate><UpdateDate>` + created + `</UpdateDate></Policy>`
	role := `<Role><Path>/</Path><RoleName>shortfuse-bench-ceiling</RoleName><RoleId>AROAEXAMPLEEXAMPLE01</RoleId><Arn>` + roleARN + `</Arn><CreateDate>` + created + `</CreateDate></Role>`
	sts := map[string]string{
		"GetCallerIdentity": `<Arn>` + userARN + `</Arn><UserId>AIDAEXAMPLEEXAMPLE01</UserId><Account>` + ceilingAccount + `</Account>`,
		"GetSessionToken":   creds,
		"AssumeRole": creds + `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLEEXAMPLE01:shortfuse-bench</AssumedRoleId><Arn>arn:aws:sts::` +
			ceilingAccount + `:assumed-role/shortfuse-bench-ceiling/shortfuse-bench</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>`,
	}
	iam := map[string]string{
		"CreateUser": user,
		"CreateAccessKey": `<AccessKey><UserName>shortfuse-bench-ceiling</UserName><AccessKeyId>` + accessKeyID +
			`</AccessKeyId><Status>Active</Status><SecretAccessKey>` + secretKey + `</SecretAccessKey><CreateDate>` + created + `</CreateDate></AccessKey>`,
		"CreateRole":       role,
		"PutUserPolicy":    "",
		"PutRolePolicy":    "",
		"DeleteAccessKey":  "",
		"DeleteUserPolicy": "",
		"DeleteUser":       "",
		"DeleteRolePolicy": "",
		"DeleteRole":       "",
		// The policies-per-principal fixtures.
		"CreateGroup":         group,
		"CreatePolicy":        policy,
		"AddUserToGroup":      "",
		"AttachUserPolicy":    "",
		"AttachGroupPolicy":   "",
		"DetachUserPolicy":    "",
		"DetachGroupPolicy":   "",
		"RemoveUserFromGroup": "",
		"DeleteGroup":         "",
		"DeletePolicy":        "",
	}
	m := make(map[string]cannedResponse, len(sts)+len(iam))
	wrap := func(ns, action, result string) cannedResponse {
		var b strings.Builder
		b.WriteString(`<` + action + `Response xmlns="` + ns + `">`)
		if result != "" {
			b.WriteString(`<` + action + `Result>` + result + `</` + action + `Result>`)
		}
		b.WriteString(`<ResponseMetadata><RequestId>` + ceilingRequestID + `</RequestId></ResponseMetadata></` + action + `Response>`)
		return cannedResponse{contentType: "text/xml", body: []byte(b.String())}
	}
	for action, result := range sts {
		m[action] = wrap(nsSTS, action, result)
	}
	for action, result := range iam {
		m[action] = wrap(nsIAM, action, result)
	}
	return m
}
