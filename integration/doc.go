// Package integration holds jwtauth's end-to-end tests. TestMain builds the
// real jwtauth binary once; every test starts it as a subprocess ("jwtauth
// serve") with its own environment — on the embedded SQLite default and on
// PostgreSQL (a fresh database per server, see internal/pgtest) — and
// drives the reference server's HTTP contract over loopback TCP, including
// clients dialing from 127.0.0.2 to exercise IP binding, and two instances
// sharing one PostgreSQL database to exercise cross-instance revocation.
//
// Run with: go test -race -count=1 ./integration/
// PostgreSQL must answer on 127.0.0.1:5432 or at JWTAUTH_TEST_DATABASE_URL;
// otherwise the PostgreSQL cases are skipped (they fail when CI=true).
package integration
