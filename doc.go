// Package jwtauth is the ready-made assembly of the jwtauth module:
// configuration from JWTAUTH_* environment variables, and google/wire
// injectors that build a Backend (store, cache, invalidation bus, codec and
// cipher) for PostgreSQL, SQLite or memory. NewService turns a Backend into
// an app.Service for the application's own user-claims type.
//
// The domain, ports, use cases and adapters live in their own packages and
// are usable without this one; importing them never pulls in Echo, sqlx or
// bigcache.
package jwtauth
