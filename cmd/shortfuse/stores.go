package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/server"
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

// loadMasterKey loads the master key file, or creates it if the store
// holds no keys yet. A store that already holds keys belongs to the master
// key that wrapped them: making a new one would only fail later, less
// clearly (a replica started without the shared key file, a store restored
// without its key).
func loadMasterKey(ctx context.Context, st store.Store, path string, logger *slog.Logger) (*seal.MasterKey, error) {
	mk, err := seal.LoadKeyFile(path)
	if err == nil {
		return mk, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master key: %w", err)
	}
	has, err := server.StoreHasKeys(ctx, st)
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
