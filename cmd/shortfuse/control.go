package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shortfuse/shortfuse/internal/keystore"
)

// The control socket: a unix socket in the data directory through which
// the commands run on the broker's host (backup, keys rotate) reach a
// running broker. The embedded store's file is locked by the broker, so a
// consistent online backup can only come from the broker itself. Whoever
// can open the socket can read the data directory anyway (the store file
// and the master key are beside it): the socket is 0600 in a 0700
// directory, and on Linux a peer running as another user is refused too.
const controlSocket = "control.sock"

// Trailers of GET /v1/backup, which let the client tell a whole copy from
// one cut short.
const (
	trailerSHA256 = "Shortfuse-Sha256"
	trailerBytes  = "Shortfuse-Bytes"
)

// controlDeps is what the control handler acts on.
type controlDeps struct {
	st     *brokerStore
	keys   *keystore.Keys
	policy keystore.RotatePolicy
	now    func() time.Time
	log    *slog.Logger
}

func controlHandler(d controlDeps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/backup", func(w http.ResponseWriter, r *http.Request) {
		if d.st.bolt == nil {
			http.Error(w, "this broker's store is PostgreSQL: back it up with pg_dump", http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", trailerSHA256+", "+trailerBytes)
		h := sha256.New()
		n, err := d.st.bolt.Backup(io.MultiWriter(w, h))
		if err != nil {
			// The status is sent; without the trailers the client refuses
			// the copy.
			d.log.Error("backup failed", "err", err)
			return
		}
		w.Header().Set(trailerSHA256, hex.EncodeToString(h.Sum(nil)))
		w.Header().Set(trailerBytes, strconv.FormatInt(n, 10))
		d.log.Info("backup sent", "bytes", n)
	})
	mux.HandleFunc("GET /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		infos, err := keystore.ListKeys(r.Context(), d.st)
		if err != nil {
			d.log.Error("listing keys failed", "err", err)
			http.Error(w, "listing keys failed; see the broker's log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(infos)
	})
	mux.HandleFunc("POST /v1/keys/rotate", func(w http.ResponseWriter, r *http.Request) {
		p := d.policy
		p.Session = r.URL.Query().Get("session") == "true"
		p.Data = r.URL.Query().Get("data") == "true"
		p.RetireOld = r.URL.Query().Get("retire-old") == "true"
		rot, err := d.keys.Rotate(r.Context(), d.now(), p)
		if err != nil {
			d.log.Error("key rotation failed", "err", err)
			http.Error(w, "key rotation failed; see the broker's log", http.StatusInternalServerError)
			return
		}
		logRotation(d.log, rot)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rot)
	})
	return mux
}

func logRotation(log *slog.Logger, rot keystore.Rotation) {
	if rot.DataKey != 0 {
		log.Info("rotated the data key", "id", rot.DataKey)
	}
	if rot.SessionKey != 0 {
		log.Info("rotated the session key", "id", rot.SessionKey)
	}
	for _, id := range rot.Retired {
		log.Info("retired a session key", "id", id)
	}
}

// listenControl listens on DATA/control.sock. The caller holds the data
// directory (its store or audit log lock), so a socket file left there is
// stale. The socket is made under a temporary name, restricted to its
// owner, and only then renamed into place, so it is never reachable with
// wider permissions.
func listenControl(dataDir string) (net.Listener, func(), error) {
	path := filepath.Join(dataDir, controlSocket)
	tmp := filepath.Join(dataDir, "."+controlSocket+".tmp")
	_ = os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		_ = os.Remove(tmp)
		return nil, nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		_ = os.Remove(tmp)
		return nil, nil, err
	}
	cleanup := func() { _ = os.Remove(path) }
	return &peerCheckListener{ul}, cleanup, nil
}

// peerCheckListener refuses connections from processes of other users
// (where the system tells).
type peerCheckListener struct{ *net.UnixListener }

func (l *peerCheckListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		if samePeerUser(c) {
			return c, nil
		}
		c.Close()
	}
}

// errNoControl means no broker answers on the data directory's control
// socket.
var errNoControl = errors.New("no running broker answers on the control socket")

// controlClient returns an HTTP client that talks to the broker of
// dataDir, or errNoControl if none is running there.
func controlClient(ctx context.Context, dataDir string) (*http.Client, error) {
	path := filepath.Join(dataDir, controlSocket)
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	c, err := dial(ctx, "", "")
	if err != nil {
		return nil, errNoControl
	}
	c.Close()
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableCompression: true}}, nil
}

// controlURL is the base of the control API (the host is ignored).
const controlURL = "http://shortfuse-control"

// hashingWriter counts and hashes what passes through it.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// fetchBackup streams the running broker's backup to w and checks it
// against the trailers.
func fetchBackup(ctx context.Context, c *http.Client, w io.Writer) (int64, error) {
	const what = "backup from the running broker"
	resp, err := controlDo(ctx, c, http.MethodGet, controlURL+"/v1/backup", what)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, controlFailed(resp, what)
	}
	hw := &hashingWriter{w: w, h: sha256.New()}
	if _, err := io.Copy(hw, resp.Body); err != nil {
		return hw.n, fmt.Errorf("%s: %w", what, err)
	}
	wantSum, wantN := resp.Trailer.Get(trailerSHA256), resp.Trailer.Get(trailerBytes)
	if wantSum == "" || wantN != strconv.FormatInt(hw.n, 10) || wantSum != hex.EncodeToString(hw.h.Sum(nil)) {
		return hw.n, errors.New(what + ": the copy is incomplete (the broker failed mid-way; see its log)")
	}
	return hw.n, nil
}

// rotateRemote asks the running broker to rotate keys.
func rotateRemote(ctx context.Context, c *http.Client, p keystore.RotatePolicy) (keystore.Rotation, error) {
	const what = "key rotation by the running broker"
	url := fmt.Sprintf("%s/v1/keys/rotate?session=%t&data=%t&retire-old=%t", controlURL, p.Session, p.Data, p.RetireOld)
	resp, err := controlDo(ctx, c, http.MethodPost, url, what)
	if err != nil {
		return keystore.Rotation{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return keystore.Rotation{}, controlFailed(resp, what)
	}
	var rot keystore.Rotation
	if err := json.NewDecoder(resp.Body).Decode(&rot); err != nil {
		return keystore.Rotation{}, fmt.Errorf("%s: %w", what, err)
	}
	return rot, nil
}

// controlDo sends a request to the running broker's control socket and
// returns the answer, whatever its status; what names the call in errors.
func controlDo(ctx context.Context, c *http.Client, method, url, what string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return resp, nil
}

// controlFailed is the error of a control call whose answer is not 200 OK:
// the start of what the broker said, on one line.
func controlFailed(resp *http.Response, what string) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("%s: %s", what, oneLine(string(msg)))
}
