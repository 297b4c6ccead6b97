package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/seal"
)

// keysInput is what the keys commands share: where the store is.
type keysInput struct {
	dataDir       string
	store         string
	masterKeyFile string
	masterKey     string // SHORTFUSE_MASTER_KEY: the key itself, instead of a file
}

// loadMasterKey loads the master key, from SHORTFUSE_MASTER_KEY or the key
// file; it never creates one.
func (in *keysInput) loadMasterKey() (*seal.MasterKey, error) {
	mk, err := masterKeyFromEnv(in.masterKey, in.masterKeyFile)
	if mk != nil || err != nil {
		return mk, err
	}
	return seal.LoadKeyFile(masterKeyPath(in.masterKeyFile, in.dataDir))
}

func (in *keysInput) validate() error {
	if in.dataDir == "" {
		return errors.New("--data must not be empty")
	}
	_, err := storeKind(in.store)
	return err
}

func (in *keysInput) flags(cmd *cobra.Command, getenv func(string) string) {
	f := cmd.Flags()
	addDataFlag(f, &in.dataDir, getenv, "data directory of the broker")
	addStoreFlag(f, &in.store, getenv, "the store: a postgres:// URL, or nothing for the embedded store in the data directory")
	addMasterKeyFileFlag(f, &in.masterKeyFile, getenv, "master key file (default DATA/master.key)")
	in.masterKey = getenv(masterKeyEnv)
}

// openStore opens the store directly, for a command run with no broker on
// the data directory; it logs nothing.
func (in *keysInput) openStore(ctx context.Context) (*brokerStore, error) {
	return openStore(ctx, in.store, in.dataDir, slog.New(slog.DiscardHandler), 0)
}

// openStoreKey is openStore with the master key, which must exist; keyName
// names the key in the error of loading it.
func (in *keysInput) openStoreKey(ctx context.Context, keyName string) (*brokerStore, *seal.MasterKey, error) {
	st, err := in.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	mk, err := in.loadMasterKey()
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("%s: %w", keyName, err)
	}
	return st, mk, nil
}

// openKeys opens the store and its keys directly, for a command run with
// no broker on the data directory. The master key must exist.
func (in *keysInput) openKeys(ctx context.Context) (*brokerStore, *keystore.Keys, *seal.MasterKey, error) {
	st, mk, err := in.openStoreKey(ctx, "master key")
	if err != nil {
		return nil, nil, nil, err
	}
	sealer, kr, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	keys, err := keystore.NewKeys(ctx, st, mk, sealer, kr, rand.Reader, newFeed(st, slog.New(slog.DiscardHandler), 0))
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, keys, mk, nil
}

func newKeysCommand(d *deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List and rotate the broker's keys",
		Long: `List and rotate the keys of the broker's store. Data keys seal every secret at rest and are
wrapped by the master key; session keys seal session tokens. A rotation adds a new key that
takes over at once on every replica, while the old ones keep opening what they sealed: data
keys stay for good, a replaced session key is deleted once every session it minted has
expired (36 h after the rotation). Brokers also rotate on their own:
--rotate-session-key-every and --rotate-data-key-every.

With a broker running on the data directory, the commands go through its control socket;
otherwise they open the store themselves (for PostgreSQL, with --store, alongside the running
replicas, which pick the change up at once).`,
	}
	cmd.AddCommand(newKeysListCommand(d))
	cmd.AddCommand(newKeysRotateCommand(d))
	cmd.AddCommand(newKeysRewrapCommand(d))
	return cmd
}

func newKeysListCommand(d *deps) *cobra.Command {
	in := &keysInput{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never their material)",
		Args:  cobra.NoArgs,
		RunE:  validated(in, d, runKeysList),
	}
	in.flags(cmd, d.getenv)
	return cmd
}

func runKeysList(ctx context.Context, in *keysInput, d *deps) error {
	var infos []keystore.KeyInfo
	if c, err := controlClient(ctx, in.dataDir); err == nil {
		if in.masterKeyFile != "" {
			// The running broker lists with its own key; one given
			// here would go unchecked.
			return &hintError{err: errors.New("--master-key-file is not used while a broker runs on the data directory"), hint: "drop it, or stop the broker to check the key against the store"}
		}
		infos, err = listRemote(ctx, c)
		if err != nil {
			return err
		}
	} else if infos, err = in.listStored(ctx); err != nil {
		return err
	}
	return printKeys(d.stdout, infos)
}

// listStored lists the keys in the store, opened directly.
func (in *keysInput) listStored(ctx context.Context) ([]keystore.KeyInfo, error) {
	var st *brokerStore
	var err error
	if in.masterKeyFile != "" {
		// A key given explicitly must open the store's keys.
		st, _, _, err = in.openKeys(ctx)
	} else {
		st, err = in.openStore(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return keystore.ListKeys(ctx, st)
}

func listRemote(ctx context.Context, c *http.Client) ([]keystore.KeyInfo, error) {
	const what = "keys of the running broker"
	resp, err := controlDo(ctx, c, http.MethodGet, controlURL+"/v1/keys", what)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", what, resp.StatusCode)
	}
	var infos []keystore.KeyInfo
	if err := json.NewDecoder(resp.Body).Decode(&infos); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return infos, nil
}

func printKeys(w io.Writer, infos []keystore.KeyInfo) error {
	tw := newTable(w, "KIND\tID\tCREATED\tSTATE")
	for _, k := range infos {
		state := ""
		switch {
		case k.Active && k.Kind == keystore.KindDataKey:
			state = "active (seals)"
		case k.Active:
			state = "active (mints)"
		case !k.RetireAt.IsZero():
			state = "opens only; removed at " + k.RetireAt.UTC().Format(time.RFC3339)
		default:
			state = "opens only"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", k.Kind, k.ID, orDash(fmtKeyTime(k.Created)), state)
	}
	return tw.Flush()
}

func fmtKeyTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type keysRotateInput struct {
	keysInput
	sessionKey, dataKey, retireOld bool
}

func newKeysRotateCommand(d *deps) *cobra.Command {
	in := &keysRotateInput{}
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new session key and data key now",
		Long: `Add a new session key (--session-key), data key (--data-key), or both (neither flag). The new
keys take over on every replica within a second; live sessions keep working.

If a session key may have leaked, add --retire-old: every older session key is deleted at once,
and every session they minted stops working on every replica (their holders get
InvalidClientTokenId and must ask for new sessions).`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runKeysRotate),
	}
	in.flags(cmd, d.getenv)
	cmd.Flags().BoolVar(&in.sessionKey, "session-key", false, "add a new session key")
	cmd.Flags().BoolVar(&in.dataKey, "data-key", false, "add a new data key")
	cmd.Flags().BoolVar(&in.retireOld, "retire-old", false, "delete every older session key now: the sessions they minted stop working")
	return cmd
}

func runKeysRotate(ctx context.Context, in *keysRotateInput, d *deps) error {
	if !in.sessionKey && !in.dataKey {
		in.sessionKey, in.dataKey = true, true
	}
	if in.retireOld && !in.sessionKey {
		return errors.New("--retire-old goes with a new session key (--session-key)")
	}
	p := keystore.RotatePolicy{Session: in.sessionKey, Data: in.dataKey, RetireOld: in.retireOld}
	var rot keystore.Rotation
	if c, err := controlClient(ctx, in.dataDir); err == nil {
		if rot, err = rotateRemote(ctx, c, p); err != nil {
			return err
		}
	} else {
		st, keys, _, err := in.openKeys(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if rot, err = keys.Rotate(ctx, time.Now(), p); err != nil {
			return err
		}
	}
	if rot.DataKey != 0 {
		fmt.Fprintf(d.stdout, "data key %d now seals new records\n", rot.DataKey)
	}
	if rot.SessionKey != 0 {
		fmt.Fprintf(d.stdout, "session key %d now mints new sessions\n", rot.SessionKey)
	}
	for _, id := range rot.Retired {
		fmt.Fprintf(d.stdout, "session key %d retired\n", id)
	}
	return nil
}

type keysRewrapInput struct {
	keysInput
	newKeyFile string
}

func newKeysRewrapCommand(d *deps) *cobra.Command {
	in := &keysRewrapInput{}
	cmd := &cobra.Command{
		Use:   "rewrap --new-master-key-file FILE",
		Short: "Wrap the data keys under a new master key",
		Long: `Re-encrypt every data key under the master key in FILE (created, 0600, if it does not exist),
so that the master key can be replaced; nothing else in the store changes. Every broker on the
store must be stopped first, and started again with FILE as its master key (move it to
DATA/master.key or pass --master-key-file). Keep the old master key until a backup made under
the new one exists: older backups still need it.`,
		Args: cobra.NoArgs,
		RunE: validated(in, d, runKeysRewrap),
	}
	in.flags(cmd, d.getenv)
	cmd.Flags().StringVar(&in.newKeyFile, "new-master-key-file", "", "the new master key file")
	return cmd
}

func runKeysRewrap(ctx context.Context, in *keysRewrapInput, d *deps) error {
	if in.newKeyFile == "" {
		return errors.New("--new-master-key-file is required")
	}
	if _, err := controlClient(ctx, in.dataDir); err == nil {
		return &hintError{err: errors.New("a broker is running on the data directory"), hint: "stop every broker that uses the store, then rewrap"}
	}
	st, oldMK, err := in.openStoreKey(ctx, "current master key")
	if err != nil {
		return err
	}
	defer st.Close()
	newMK, created, err := seal.LoadOrCreateKeyFile(in.newKeyFile, rand.Reader)
	if err != nil {
		return fmt.Errorf("new master key: %w", err)
	}
	n, err := keystore.RewrapDataKeys(ctx, st, oldMK, newMK, rand.Reader)
	if err != nil {
		if created {
			_ = os.Remove(in.newKeyFile)
		}
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "re-wrapped %d data keys under %s\nstart the brokers with it as their master key file\n", n, in.newKeyFile)
	return err
}
