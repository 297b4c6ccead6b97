package execjob

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shortfuse/shortfuse/internal/client/token"
)

// credentialsPath is the path of the endpoint under the loopback address.
const credentialsPath = "/shortfuse/credentials"

// unknownExpiryLease is the Expiration served when the session's expiry is
// not known: short, so that SDKs come back often and always get the
// session as it is.
const unknownExpiryLease = 5 * time.Minute

// CredentialsServer is a container-credentials endpoint on loopback that
// serves one session to the child's AWS SDKs. Every SDK asks it again
// before the Expiration it serves (15 minutes ahead, by default), and gets
// the same cached session: it never mints credentials.
//
// The protocol: GET AWS_CONTAINER_CREDENTIALS_FULL_URI with the header
// "Authorization: <AWS_CONTAINER_AUTHORIZATION_TOKEN>", answered by
// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html).
type CredentialsServer struct {
	creds     token.Credentials
	authToken string
	now       func() time.Time
	ln        net.Listener
	srv       *http.Server
	done      chan struct{}
}

// NewCredentialsServer listens on a free loopback port. The authorization
// token is 32 bytes from random.
func NewCredentialsServer(creds token.Credentials, random io.Reader, now func() time.Time) (*CredentialsServer, error) {
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return nil, fmt.Errorf("credentials endpoint: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("credentials endpoint: %w", err)
	}
	s := &CredentialsServer{
		creds:     creds,
		authToken: base64.RawURLEncoding.EncodeToString(b[:]),
		now:       now,
		ln:        ln,
		done:      make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          nil,
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the full URI of the endpoint.
func (s *CredentialsServer) URL() string { return "http://" + s.ln.Addr().String() + credentialsPath }

// AuthToken is the value the SDKs must send; it is a secret of the child
// (mask it like the session).
func (s *CredentialsServer) AuthToken() string { return s.authToken }

// Env is what the child needs to find the endpoint.
func (s *CredentialsServer) Env() []string {
	return []string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + s.URL(),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + s.authToken,
	}
}

// Close stops serving.
func (s *CredentialsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type containerCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token,omitempty"`
	Expiration      string `json:"Expiration"`
}

// ServeHTTP answers the SDKs. The Host check stops DNS-rebinding pages in a
// local browser from reaching the endpoint under another name.
func (s *CredentialsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Host != s.ln.Addr().String() {
		http.Error(w, "wrong host", http.StatusForbidden)
		return
	}
	if r.URL.Path != credentialsPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The token is a secret: compare in constant time, so that response
	// timing does not reveal how much of a guess was right.
	got := r.Header.Get("Authorization")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.authToken)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	exp := s.creds.Expiration
	if exp.IsZero() {
		exp = s.now().Add(unknownExpiryLease)
	}
	body, err := json.Marshal(containerCredentials{
		AccessKeyID:     s.creds.AccessKeyID,
		SecretAccessKey: s.creds.SecretAccessKey,
		Token:           s.creds.SessionToken,
		Expiration:      exp.UTC().Format(time.RFC3339),
	})
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
