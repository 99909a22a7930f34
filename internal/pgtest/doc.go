// Package pgtest gives tests their own throwaway PostgreSQL database.
//
// Every call to DSN creates a uniquely named, empty database on the server
// named by JWTAUTH_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable, whose user must
// be allowed to CREATE DATABASE) and drops it when the test ends, so test
// packages running in parallel never share tables. Open does the same and
// returns an sqlx pool on the new database.
//
// When the server does not answer, the test is skipped, or fails when the
// environment variable CI is "true", so that CI never passes by skipping.
package pgtest
