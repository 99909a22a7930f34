// Package app holds jwtauth's use cases: Service issues, authenticates,
// verifies, refreshes and revokes tokens and sessions. It depends only on
// package domain and on the interfaces of package ports, so every outside
// thing (database, cache, bus, JWT library, cipher) is an adapter chosen by
// the caller.
package app
