// Package benchmarks holds jwtauth's cross-adapter benchmarks and load
// tests: Authenticate against plain golang-jwt, with and without the cache,
// with the user from the token or from PostgreSQL, logins per second on
// PostgreSQL, Echo middleware against labstack/echo-jwt over real HTTP, and
// the cost of a lookup as the tables grow. It has no code of its own; its
// tests import whatever adapters they measure.
//
// Run everything, with benchstat and the ratio table, with scripts/bench;
// docs/benchmarks.md explains the figures. The PostgreSQL benchmarks use a
// fresh database per benchmark (internal/pgtest) and skip without a
// server. The large-data benchmarks run only with JWTAUTH_BIG=1, the long
// HTTP load test only with JWTAUTH_LOAD=1.
package benchmarks
