// Package bcache implements ports.Cache on github.com/allegro/bigcache/v3:
// a sharded, byte-slice cache whose entries live in a few large
// allocations, so that a million cached generations cost the garbage
// collector almost nothing.
//
// The cache is sized from Config rather than from bigcache's DefaultConfig,
// which reserves about 325 MiB up front. Entries expire TTL after they were
// written (a last bound: invalidations arrive through the bus long before),
// and the oldest entries are evicted when the cache reaches Config.MaxMB.
//
// Entries are stored packed: the constant parts of jwtauth's key shapes
// become a one-byte tag and a generation UUID its 16 bytes, so a cached
// generation takes about 48 bytes plus 20 to 40 for bigcache's index (see
// TestMemoryPerEntry).
//
// Like every ports.Cache, it never reports errors: a failed read is a miss
// and a failed write is dropped.
package bcache
