// Package ports defines the small interfaces jwtauth's use cases (package
// app) need from the outside world: a store with a per-user locked update,
// a cache, an invalidation bus, a token codec, a cipher and a user loader.
// Adapters implement them; package porttest holds their contract suites.
package ports
