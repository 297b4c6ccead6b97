package main

import (
	"strings"
	"testing"
	"time"
)

func TestStoreKind(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"ok/embedded", "", storeBolt},
		{"ok/postgres", "postgres://u:pw@db:5432/sf?sslmode=verify-full", storePostgres},
		{"ok/postgresql", "postgresql://db/sf", storePostgres},
		{"fail/keyword-dsn", "host=db password=hunter2 dbname=sf", ""},
		{"fail/other-scheme", "mysql://u:hunter2@db/sf", ""},
		{"fail/bolt-path", "/var/lib/shortfuse/shortfuse.db", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := storeKind(tt.spec)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("storeKind() = %q, want an error", got)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), tt.spec) {
					t.Errorf("storeKind() error quotes the value: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("storeKind() = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestServerInputValidateReplicaFlags(t *testing.T) {
	base := func() serverInput {
		return serverInput{listen: "127.0.0.1:0", dataDir: "d", maxSession: time.Hour, region: "us-east-1", logLevel: "info",
			rotateSession: 24 * time.Hour, rotateData: 720 * time.Hour, syncInterval: 500 * time.Millisecond,
			maxStaleness: time.Second, storeTimeout: 3 * time.Second, txTimeout: 10 * time.Second}
	}
	tests := []struct {
		name   string
		change func(*serverInput)
		want   string // "" for valid
	}{
		{"ok/defaults", func(*serverInput) {}, ""},
		{"ok/postgres", func(in *serverInput) { in.store = "postgres://db/sf" }, ""},
		{"ok/never-rotate", func(in *serverInput) { in.rotateSession, in.rotateData = 0, 0 }, ""},
		{"fail/store", func(in *serverInput) { in.store = "sqlite:///x" }, "--store"},
		{"fail/rotate-too-often", func(in *serverInput) { in.rotateSession = 30 * time.Second }, "--rotate-session-key-every"},
		{"fail/rotate-unparsed-env", func(in *serverInput) { in.rotateData = -1 }, "--rotate-data-key-every"},
		{"fail/sync-interval-too-long", func(in *serverInput) { in.syncInterval = 2 * time.Second }, "--sync-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(&in)
			err := in.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
