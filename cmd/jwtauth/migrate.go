package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/sqlstore"
)

// runMigrate opens the configured database (PostgreSQL when
// JWTAUTH_DATABASE_URL is set, else the SQLite file in JWTAUTH_DATA_DIR)
// and applies the embedded migrations.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "jwtauth migrate: unexpected arguments %q\n\n%s", args, commandUsage["migrate"])
		return 2
	}
	// Migrating needs no keys, so production's key requirement is not
	// applied: JWTAUTH_ENV is read as development here.
	cfg, err := jwtauth.LoadConfig(func(name string) (string, bool) {
		if name == "JWTAUTH_ENV" {
			return "development", true
		}
		return lookup(name)
	})
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth migrate: %v\n", err)
		return 2
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth migrate: %v\n", err)
		return exitCode(err)
	}
	defer db.Close()
	before := schemaVersion(ctx, db)
	if err := sqlstore.Migrate(ctx, db); err != nil {
		fmt.Fprintf(stderr, "jwtauth migrate: %v\n", err)
		return 1
	}
	after := schemaVersion(ctx, db)
	where := storeDescription(cfg)
	if after == before {
		fmt.Fprintf(stdout, "%s: schema already at version %d, nothing to do\n", where, after)
	} else {
		fmt.Fprintf(stdout, "%s: migrated schema from version %d to %d\n", where, before, after)
	}
	return 0
}

// openDB opens the database cfg names, without migrating it.
func openDB(ctx context.Context, cfg jwtauth.Config) (*sqlx.DB, error) {
	if jwtauth.IsPostgresURL(cfg.DatabaseURL) {
		return sqlstore.OpenPostgres(ctx, cfg.DatabaseURL, sqlstore.WithIOTimeout(sqlstore.MigrateIOTimeout))
	}
	if err := jwtauth.MakeDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	return sqlstore.OpenSQLite(ctx, filepath.Join(cfg.DataDir, jwtauth.SQLiteFile))
}

// schemaVersion returns the applied schema version, 0 before the first
// migration.
func schemaVersion(ctx context.Context, db *sqlx.DB) int {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM jwtauth_schema_version`).Scan(&v); err != nil {
		return 0
	}
	return v
}
