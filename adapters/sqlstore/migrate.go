package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations
var migrationFiles embed.FS

// migrateLockKey is the PostgreSQL advisory lock key Migrate holds ("jwtauthm").
const migrateLockKey int64 = 0x6a7774617574686d

// schemaFile is the current schema in each dialect's directory: a new
// database is created from it in one step, so that it never holds the
// unprefixed tables of schema 1 (an application's own "sessions" table
// would make that step fail).
const schemaFile = "schema.sql"

// schema returns the dialect's current schema.
func (d *dialect) schema() (string, error) {
	b, err := migrationFiles.ReadFile(path.Join("migrations", d.name, schemaFile))
	return string(b), err
}

// migration is one embedded migrations/<dialect>/NNNN_name.sql file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (d *dialect) migrations() ([]migration, error) {
	dir := path.Join("migrations", d.name)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") || name == schemaFile {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a positive version and '_'", name)
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// execQuerier is what migrations run on: a *sql.Tx or a *sql.Conn.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Migrate brings the jwtauth tables in db up to date with the embedded
// migrations, each applied at most once and recorded in
// jwtauth_schema_version. A new database gets the current schema
// (jwtauth_user_auth, jwtauth_sessions) in one step; a schema-1 database
// (user_auth, sessions) has its tables renamed, every row kept. The dialect follows db.DriverName() ("postgres" or
// "sqlite"). It is safe to call on every start and from several processes
// at once: all migrations run in one transaction that holds, on PostgreSQL,
// an advisory lock and, on SQLite, the write lock (BEGIN IMMEDIATE). A
// database migrated by a newer version is left alone.
//
// Errors wrap domain.ErrInvalidArgument for an unknown driver and
// domain.ErrUnavailable when the database fails.
func Migrate(ctx context.Context, db *sqlx.DB) error {
	d, err := dialectOf(db.DriverName())
	if err != nil {
		return err
	}
	ms, err := d.migrations()
	if err != nil {
		return err
	}
	if d == postgres {
		return migratePostgres(ctx, db, d, ms)
	}
	return migrateSQLite(ctx, db, d, ms)
}

func migratePostgres(ctx context.Context, db *sqlx.DB, d *dialect, ms []migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(ctx, "migrate: begin", err)
	}
	defer func() { _ = tx.Rollback() }()
	// Held until commit: concurrent migrators wait here, then find the
	// work done.
	if _, err := tx.ExecContext(ctx, d.rebind(`SELECT pg_advisory_xact_lock(?)`), migrateLockKey); err != nil {
		return unavailable(ctx, "migrate: lock", err)
	}
	if err := applyMigrations(ctx, tx, d, ms); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable(ctx, "migrate: commit", err)
	}
	return nil
}

// migrateSQLite runs the migrations in a BEGIN IMMEDIATE transaction on one
// connection, whatever _txlock the database was opened with, so that two
// migrators never both read the version and then both write.
func migrateSQLite(ctx context.Context, db *sqlx.DB, d *dialect, ms []migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return unavailable(ctx, "migrate: connect", err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return unavailable(ctx, "migrate: begin", err)
	}
	err = applyMigrations(ctx, conn, d, ms)
	if err == nil {
		if _, cerr := conn.ExecContext(ctx, "COMMIT"); cerr != nil {
			err = unavailable(ctx, "migrate: commit", cerr)
		} else {
			return nil
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
		// The connection's transaction state is unknown: never pool it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

func applyMigrations(ctx context.Context, q execQuerier, d *dialect, ms []migration) error {
	if _, err := q.ExecContext(ctx, d.versionTable); err != nil {
		return unavailable(ctx, "migrate: create version table", err)
	}
	var current int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM jwtauth_schema_version`).Scan(&current); err != nil {
		return unavailable(ctx, "migrate: read version", err)
	}
	record := func(m migration) error {
		if _, err := q.ExecContext(ctx, d.rebind(`INSERT INTO jwtauth_schema_version (version, applied_at) VALUES (?, ?)`),
			m.version, timeArg(time.Now())); err != nil {
			return unavailable(ctx, "migrate: record "+m.name, err)
		}
		return nil
	}
	if current == 0 && len(ms) > 0 {
		schema, err := d.schema()
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, schema); err != nil {
			return unavailable(ctx, "migrate: "+schemaFile, err)
		}
		for _, m := range ms {
			if err := record(m); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := q.ExecContext(ctx, m.sql); err != nil {
			return unavailable(ctx, "migrate: "+m.name, err)
		}
		if err := record(m); err != nil {
			return err
		}
	}
	return nil
}
