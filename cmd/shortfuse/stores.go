package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
)

// boltFile is the embedded store's file in the data directory.
const boltFile = "shortfuse.db"

// Store kinds.
const (
	storeBolt     = "bolt"
	storePostgres = "postgres"
)

// storeKind reads a --store value: "" for the embedded store in the data
// directory, or a postgres:// (postgresql://) URL. Errors never quote the
// value, which may hold a password.
func storeKind(spec string) (string, error) {
	switch {
	case spec == "":
		return storeBolt, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return storePostgres, nil
	}
	return "", &hintError{
		err:  errors.New("--store: want a postgres:// URL, or nothing for the embedded store in the data directory"),
		hint: "for example --store 'postgres://shortfuse@db.example:5432/shortfuse?sslmode=verify-full', or SHORTFUSE_STORE",
	}
}

// brokerStore is the store a broker runs on.
type brokerStore struct {
	store.Store
	kind string
	bolt *bolt.Store     // when kind is storeBolt
	pg   *postgres.Store // when kind is storePostgres
}

// openStore opens the store that --store names, with --data as the
// embedded store's directory (it must exist). txTimeout bounds each
// PostgreSQL transaction whose context has no deadline (0: none).
func openStore(ctx context.Context, spec, dataDir string, logger *slog.Logger, txTimeout time.Duration) (*brokerStore, error) {
	kind, err := storeKind(spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case storePostgres:
		st, err := postgres.Open(ctx, spec, postgres.Options{Logger: logger, TxTimeout: txTimeout})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return &brokerStore{Store: st, kind: kind, pg: st}, nil
	default:
		st, err := bolt.Open(filepath.Join(dataDir, boltFile), bolt.Options{})
		if errors.Is(err, bolt.ErrInUse) {
			return nil, &hintError{err: fmt.Errorf("store: %w", err), hint: "another shortfuse server (or command) uses the data directory " + dataDir}
		}
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return &brokerStore{Store: st, kind: kind, bolt: st}, nil
	}
}

// masterKeyPath is --master-key-file, or DATA/master.key.
func masterKeyPath(flag, dataDir string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(dataDir, "master.key")
}

// masterKeyEnv names the environment variable that may carry the master key
// itself, as the text of a key file, instead of a key file. It is for
// platforms that hand secrets over as environment variables, or as files
// the broker's user cannot own: a Kubernetes Secret volume is readable by
// root only, or by a group once the pod has an fsGroup, and a key file that
// others may read is refused. There is no flag for it: a command line shows
// in the process list.
const masterKeyEnv = "SHORTFUSE_MASTER_KEY"

// masterKeyFromEnv parses the master key given in SHORTFUSE_MASTER_KEY
// (text), or returns nil when text is empty. Giving a key file as well is
// refused rather than guessing which one is meant.
func masterKeyFromEnv(text, keyFile string) (*seal.MasterKey, error) {
	if text == "" {
		return nil, nil
	}
	if keyFile != "" {
		return nil, fmt.Errorf("master key: both %s and a master key file (--master-key-file or SHORTFUSE_MASTER_KEY_FILE) are set; give one", masterKeyEnv)
	}
	mk, err := seal.ParseMasterKey(text)
	if err != nil {
		return nil, fmt.Errorf("master key: %s: %w", masterKeyEnv, err)
	}
	return mk, nil
}

// createMasterKey makes the master key file that the server did not find
// (it reads an existing one before it opens the store), if the store holds
// no keys yet. A store that already holds keys belongs to the master key
// that wrapped them: making a new one would only fail later, less clearly
// (a replica started without the shared key file, a store restored without
// its key).
func createMasterKey(ctx context.Context, st store.Store, path string, logger *slog.Logger) (*seal.MasterKey, error) {
	has, err := keystore.StoreHasKeys(ctx, st)
	if err != nil {
		return nil, err
	}
	if has {
		return nil, &hintError{
			err:  fmt.Errorf("master key file %s does not exist, and the store holds keys wrapped under a master key", path),
			hint: "give this broker the master key file the store was created with (--master-key-file or SHORTFUSE_MASTER_KEY_FILE); every replica needs the same one",
		}
	}
	mk, created, err := seal.LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		logger.Info("created master key file", "path", path)
	}
	return mk, nil
}
