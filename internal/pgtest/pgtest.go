package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// EnvURL names the environment variable holding the admin connection URL.
const EnvURL = "JWTAUTH_TEST_DATABASE_URL"

// DefaultURL is used when EnvURL is unset or empty.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pingTimeout bounds the check that the server answers.
const pingTimeout = 3 * time.Second

// admin holds one admin pool per base URL for the life of the test binary.
var admin struct {
	sync.Mutex
	pools map[string]*adminPool
}

type adminPool struct {
	db  *sql.DB
	err error // why the server did not answer
}

// DSN creates a fresh empty database for tb, drops it (WITH (FORCE)) in
// tb.Cleanup, and returns its connection string for driver "postgres".
// When EnvURL is set only that server is tried.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		base = DefaultURL
	}
	db, err := adminDB(base)
	if err != nil {
		msg := fmt.Sprintf("pgtest: PostgreSQL does not answer at %s: %v\n"+
			"Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or set %s to a server whose user may CREATE DATABASE.", redact(base), err, EnvURL)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	name := "jwtauth_test_" + randomHex(8)
	ident := pq.QuoteIdentifier(name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+ident); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// Open returns a pool (driver "postgres") on a fresh database from DSN,
// closed in tb.Cleanup before the database is dropped. Nothing is migrated.
func Open(tb testing.TB) *sqlx.DB {
	tb.Helper()
	dsn := DSN(tb)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		tb.Fatalf("pgtest: connect to test database: %v", err)
	}
	return db
}

// adminDB returns the admin pool for base, or why the server does not
// answer. The answer is remembered for the rest of the test binary.
func adminDB(base string) (*sql.DB, error) {
	admin.Lock()
	defer admin.Unlock()
	if p, ok := admin.pools[base]; ok {
		return p.db, p.err
	}
	p := &adminPool{}
	p.db, p.err = sql.Open("postgres", base)
	if p.err == nil {
		p.db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		p.err = p.db.PingContext(ctx)
		cancel()
		if p.err != nil {
			_ = p.db.Close()
			p.db = nil
		}
	}
	if admin.pools == nil {
		admin.pools = make(map[string]*adminPool)
	}
	admin.pools[base] = p
	return p.db, p.err
}

// withDatabase returns base (a URL or a lib/pq key=value string) pointing
// at database name.
func withDatabase(base, name string) string {
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// lib/pq applies key=value pairs in order: the last dbname wins.
	return strings.TrimSpace(base) + " dbname=" + name
}

// redact hides a password in a URL.
func redact(base string) string {
	if u, err := url.Parse(base); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(connection string from " + EnvURL + ")"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
