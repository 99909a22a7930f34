//go:build wireinject

package jwtauth

import (
	"context"

	"github.com/google/wire"
)

// NewPostgresBackend builds a Backend on PostgreSQL (cfg.DatabaseURL):
// migrated store, bigcache, LISTEN/NOTIFY bus. The returned function stops
// the listener and closes the pools.
func NewPostgresBackend(ctx context.Context, cfg Config) (*Backend, func(), error) {
	wire.Build(CoreSet, PostgresSet, wire.Struct(new(Backend), "*"))
	return nil, nil, nil
}

// NewSQLiteBackend builds a Backend on the SQLite file in cfg.DataDir with
// bigcache and an in-process bus: the embedded single-instance default.
func NewSQLiteBackend(ctx context.Context, cfg Config) (*Backend, func(), error) {
	wire.Build(CoreSet, SQLiteSet, wire.Struct(new(Backend), "*"))
	return nil, nil, nil
}

// NewMemoryBackend builds a Backend that keeps everything in memory, for
// tests and demos.
func NewMemoryBackend(cfg Config) (*Backend, func(), error) {
	wire.Build(CoreSet, MemorySet, wire.Struct(new(Backend), "Store", "Codec", "Cipher", "Cache", "Bus"))
	return nil, nil, nil
}
