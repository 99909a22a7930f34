package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/jwtauth/jwtauth/domain"
)

// dialect holds everything that differs between PostgreSQL and SQLite.
// The SQL itself is shared and written with '?' placeholders.
type dialect struct {
	name     string
	bindType int // sqlx.DOLLAR or sqlx.QUESTION
	// lockUser ends the query that reads the user's generations, locking
	// them until the transaction ends. SQLite needs nothing: its
	// transaction already holds the database's single write lock.
	lockUser string
	// lockFirst: UpdateUser locks the user's rows before creating them if
	// missing, rather than writing them first.
	lockFirst bool
	// notify: announce invalidations with pg_notify inside the transaction.
	notify bool
	// versionTable creates the schema version table.
	versionTable string
}

var (
	postgres = &dialect{
		name:      "postgres",
		bindType:  sqlx.DOLLAR,
		lockUser:  " FOR UPDATE",
		lockFirst: true,
		notify:    true,
		versionTable: `CREATE TABLE IF NOT EXISTS jwtauth_schema_version (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)`,
	}
	sqlite = &dialect{
		name:     "sqlite",
		bindType: sqlx.QUESTION,
		versionTable: `CREATE TABLE IF NOT EXISTS jwtauth_schema_version (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at TEXT    NOT NULL
) STRICT`,
	}
)

// dialectOf returns the dialect for a database/sql driver name.
func dialectOf(driverName string) (*dialect, error) {
	switch driverName {
	case "postgres", "pgx", "pgx/v5", "cloudsqlpostgres":
		return postgres, nil
	case "sqlite", "sqlite3":
		return sqlite, nil
	}
	return nil, fmt.Errorf("%w: sqlstore: unsupported database driver %q (want postgres or sqlite)", domain.ErrInvalidArgument, driverName)
}

// rebind turns the '?' placeholders of query into the dialect's.
func (d *dialect) rebind(query string) string { return sqlx.Rebind(d.bindType, query) }

// OpenPostgres opens a PostgreSQL pool with lib/pq (driver "postgres") and
// checks that it answers. dsn is a URL (postgres://user@host/db?sslmode=...)
// or a lib/pq key=value string. The pool holds at most 25 connections
// (WithMaxConns), keeps up to 10 idle for 5 minutes and renews each after
// 30 minutes; adjust them on the returned *sqlx.DB if needed. Errors wrap
// domain.ErrUnavailable.
//
// Every read and write on its connections must progress within IOTimeout
// (WithIOTimeout): lib/pq waits for the server to acknowledge a cancelled
// query, so without a deadline a database that stops answering (a network
// black hole, a frozen host) would hang requests instead of failing them.
func OpenPostgres(ctx context.Context, dsn string, opts ...PoolOption) (*sqlx.DB, error) {
	o := poolOptions{maxConns: 25, ioTimeout: IOTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		// pq's parse errors may quote the password: keep them out.
		return nil, fmt.Errorf("%w: sqlstore: invalid PostgreSQL DSN", domain.ErrUnavailable)
	}
	connector.Dialer(deadlineDialer{timeout: o.ioTimeout})
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(min(10, o.maxConns))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, unavailable(ctx, "connect to postgres", err)
	}
	return db, nil
}

// PoolOption configures OpenPostgres.
type PoolOption func(*poolOptions)

type poolOptions struct {
	maxConns  int
	ioTimeout time.Duration
}

// WithMaxConns sets the most connections the pool opens; callers beyond
// wait for one, as long as their context allows. Optional. Default 25.
// Values below 1 keep the default.
func WithMaxConns(n int) PoolOption {
	return func(o *poolOptions) {
		if n >= 1 {
			o.maxConns = n
		}
	}
}

// MigrateIOTimeout is the I/O deadline of a pool opened for Migrate: a
// schema change on a large table (an index build) and the wait for
// another instance's migration lock take far longer than a store call may.
const MigrateIOTimeout = 10 * time.Minute

// WithIOTimeout sets how long each read or write on a connection may take
// before the connection is given up. With a Store timeout (WithTimeout)
// of the same length, a call on a database that stopped answering
// returns within twice that: the cancellation lib/pq sends cannot reach
// such a database, so the statement under way ends at its read deadline.
// Optional. Default IOTimeout. Values of 0 or less keep the default.
func WithIOTimeout(d time.Duration) PoolOption {
	return func(o *poolOptions) {
		if d > 0 {
			o.ioTimeout = d
		}
	}
}

// sqlitePragmas are appended to every path OpenSQLite opens: write-ahead
// logging (readers never block the writer), a 10 s wait for the write lock
// instead of an immediate SQLITE_BUSY, foreign keys on, and BEGIN IMMEDIATE
// for every transaction so that a locked update takes the write lock first.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"

// OpenSQLite opens (creating it if needed) the SQLite database file at path
// with the pure-Go driver modernc.org/sqlite (driver "sqlite"), in WAL mode
// with a 10 s busy timeout and immediate transactions, and checks that it
// answers. path ":memory:" opens a private in-memory database on a single
// connection. Errors wrap domain.ErrUnavailable, or domain.ErrInvalidArgument
// for an empty path.
func OpenSQLite(ctx context.Context, path string) (*sqlx.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: sqlstore: empty SQLite path", domain.ErrInvalidArgument)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	db, err := sqlx.Open("sqlite", path+sep+sqlitePragmas)
	if err != nil {
		return nil, unavailable(ctx, "open sqlite", err)
	}
	if path == ":memory:" {
		// Every connection would get its own empty database.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, unavailable(ctx, "open sqlite", err)
	}
	return db, nil
}

// createPrivate creates the SQLite file at path with mode 0600 when it does
// not exist yet: it holds IPs, User-Agents and device ids. SQLite gives
// the -wal and -shm files the mode of the database file. Special names
// (":memory:", "file:" URIs) are left to SQLite.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil
	}
	f, err := os.OpenFile(filepath.Clean(path), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w: sqlstore: create %s: %v", domain.ErrUnavailable, path, err)
	}
	return f.Close()
}

// IOTimeout bounds each read or write on a PostgreSQL connection opened by
// OpenPostgres unless WithIOTimeout says otherwise. Every statement of the
// store takes milliseconds.
const IOTimeout = 5 * time.Second

// deadlineDialer dials connections whose every read and write has a
// deadline.
type deadlineDialer struct {
	d       net.Dialer
	timeout time.Duration
}

func (d deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, timeout: d.timeout}, nil
}

// deadlineConn sets a fresh deadline before each read and write.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
