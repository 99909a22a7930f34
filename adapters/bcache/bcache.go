package bcache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/allegro/bigcache/v3"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var _ ports.Cache = (*Cache)(nil)

// Defaults of Config.
const (
	DefaultTTL        = 5 * time.Minute
	DefaultMaxEntries = 100_000
	DefaultMaxMB      = 64
	DefaultShards     = 64
)

// Sizing, per entry. bigcache stores an entry as 19 bytes of headers, then
// its key and value in their packed form (see pack.go): a generation takes
// 37 bytes plus the user id's length, a session status 56 plus the user
// id's length. The hash index costs 20 to 40 bytes more, depending on how
// full its power-of-two tables are.
//
// entrySize bytes per expected entry are reserved up front: enough for
// the generations of user ids up to 15 bytes long, the bulk of the cache
// in the common case, with a margin for the uneven spread of entries over
// the shards. A shard whose entries are larger doubles its storage, up to
// the hard limit, which defaults to maxEntrySize per expected entry.
const (
	entrySize    = 52
	maxEntrySize = 128
)

// maxKeyLen bounds keys. bigcache records a key's length in 16 bits and
// panics reading back an entry whose key comes near 64 KiB; jwtauth's keys
// hold ids of at most a few hundred bytes.
const maxKeyLen = 4 << 10

// Config sizes a Cache. The zero value of every field means its default.
type Config struct {
	// TTL bounds how long an entry is served after it was written, to the
	// second (bigcache's resolution); it must be at least one second.
	// Optional. Default 5m.
	TTL time.Duration
	// MaxEntries is the number of entries the cache is expected to hold.
	// Memory for that many typical entries is reserved up front.
	// Optional. Default 100_000.
	MaxEntries int
	// MaxMB caps the entries' storage in MiB; when a shard's share is
	// full its oldest entries are evicted. 52 bytes per expected entry are
	// reserved up front (within MaxMB); the shards' hash indexes come on
	// top, 20 to 40 bytes per entry. Optional. Default 64, or 128 bytes per
	// expected entry when that is larger.
	MaxMB int
	// Shards is the number of independently locked shards, a power of two.
	// Optional. Default 64.
	Shards int
}

// withDefaults returns c with defaults applied, or an error wrapping
// domain.ErrInvalidArgument naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.TTL < 0 || (c.TTL > 0 && c.TTL < time.Second):
		return c, fmt.Errorf("%w: bcache: TTL %v must be at least 1s", domain.ErrInvalidArgument, c.TTL)
	case c.MaxEntries < 0 || c.MaxEntries > 1<<31:
		return c, fmt.Errorf("%w: bcache: MaxEntries %d is out of range", domain.ErrInvalidArgument, c.MaxEntries)
	case c.MaxMB < 0 || c.MaxMB > 1<<30:
		return c, fmt.Errorf("%w: bcache: MaxMB %d is out of range", domain.ErrInvalidArgument, c.MaxMB)
	case c.Shards < 0 || c.Shards&(c.Shards-1) != 0:
		return c, fmt.Errorf("%w: bcache: Shards %d is not a power of two", domain.ErrInvalidArgument, c.Shards)
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	if c.MaxMB == 0 {
		c.MaxMB = max(DefaultMaxMB, (c.MaxEntries*maxEntrySize+(1<<20)-1)>>20)
	}
	// bigcache indexes a shard's storage with 32 bits.
	if c.MaxMB/c.Shards >= 4<<10 {
		return c, fmt.Errorf("%w: bcache: MaxMB %d over %d shards exceeds 4 GiB per shard", domain.ErrInvalidArgument, c.MaxMB, c.Shards)
	}
	return c, nil
}

// bigcacheConfig translates c (defaults applied) into bigcache's terms.
//
// bigcache preallocates, per shard, a byte queue of
// MaxEntriesInWindow/Shards × MaxEntrySize bytes and two hash maps
// presized for MaxEntriesInWindow/Shards entries. One of the maps only
// serves statistics, which are off, so presizing it would cost as much as
// the index itself for nothing. bigcache is therefore told to expect few
// entries per shard, the queue gets the whole reservation through
// MaxEntrySize, and the index grows as entries arrive.
func (c Config) bigcacheConfig() bigcache.Config {
	const mapHint = 128 // per shard, one small table; the maps grow from there
	perShard := (c.MaxEntries + c.Shards - 1) / c.Shards
	queue := perShard * entrySize
	if maxQueue := (c.MaxMB << 20) / c.Shards; queue > maxQueue {
		queue = maxQueue
	}
	return bigcache.Config{
		Shards:             c.Shards,
		LifeWindow:         c.TTL,
		CleanWindow:        max(time.Second, min(c.TTL/2, time.Minute)),
		MaxEntriesInWindow: mapHint * c.Shards,
		MaxEntrySize:       max(queue/mapHint, 1),
		HardMaxCacheSize:   c.MaxMB,
		Verbose:            false,
		Logger:             nopLogger{},
	}
}

// Cache is a ports.Cache on bigcache. It is safe for concurrent use.
// Values are copied in and out: a caller may modify a slice it passed to
// Set or received from Get.
type Cache struct {
	bc        *bigcache.BigCache
	closeOnce sync.Once
}

// New returns a Cache sized by cfg, or an error wrapping
// domain.ErrInvalidArgument when cfg is invalid. Call Close to stop its
// cleanup goroutine.
func New(cfg Config) (*Cache, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// The context stays uncancelled: bigcache prints a line when it is
	// cancelled; Close stops the cleanup goroutine quietly instead.
	bc, err := bigcache.New(context.Background(), cfg.bigcacheConfig())
	if err != nil {
		return nil, fmt.Errorf("%w: bcache: %w", domain.ErrInvalidArgument, err)
	}
	return &Cache{bc: bc}, nil
}

// Get implements ports.Cache. An entry older than the TTL is a miss even
// before bigcache's cleanup has removed it; so is any error, and so is a
// key of 4 KiB or more, which Set never stores.
func (c *Cache) Get(key string) ([]byte, bool) {
	if len(key) >= maxKeyLen {
		return nil, false
	}
	v, resp, err := c.bc.GetWithInfo(packKey(key))
	if err != nil || resp.EntryStatus == bigcache.Expired {
		return nil, false
	}
	return unpackValue(v)
}

// GenerationIs is Get(ports.GenerationKey(userID, typ)) compared with gen,
// without building the key or the value's text: found reports a hit, and
// match whether the cached generation is gen.
func (c *Cache) GenerationIs(userID string, typ domain.TokenType, gen string) (match, found bool) {
	if len("user:")+len(userID)+1+len(typ)+len(":gen") >= maxKeyLen { // len(ports.GenerationKey(...))
		return false, false
	}
	v, resp, err := c.bc.GetWithInfo(packGenerationKey(userID, typ))
	if err != nil || resp.EntryStatus == bigcache.Expired {
		return false, false
	}
	return valueIs(v, gen)
}

// SessionStatus is Get(ports.SessionKey(sessionID)) without building the
// key.
func (c *Cache) SessionStatus(sessionID string) ([]byte, bool) {
	if len("session:")+len(sessionID) >= maxKeyLen {
		return nil, false
	}
	v, resp, err := c.bc.GetWithInfo(packSessionKey(sessionID))
	if err != nil || resp.EntryStatus == bigcache.Expired {
		return nil, false
	}
	return unpackValue(v)
}

// Set implements ports.Cache. It stores a copy of value. An entry that
// cannot be stored (larger than a shard, or a key of 4 KiB or more) is
// dropped, and any previous value of key is gone.
func (c *Cache) Set(key string, value []byte) {
	if len(key) >= maxKeyLen {
		return // never stored, so there is no previous value either
	}
	_ = c.bc.Set(packKey(key), packValue(value))
}

// Delete implements ports.Cache. Missing keys are ignored.
func (c *Cache) Delete(keys ...string) {
	for _, k := range keys {
		if len(k) >= maxKeyLen {
			continue
		}
		// bigcache fails only for keys it does not hold or could not
		// read back, which Get misses too.
		_ = c.bc.Delete(packKey(k))
	}
}

// Reset implements ports.Cache.
func (c *Cache) Reset() { _ = c.bc.Reset() }

// Len returns the number of entries held, expired ones not yet cleaned up
// included.
func (c *Cache) Len() int { return c.bc.Len() }

// Close stops the cache's cleanup goroutine. The cache stays usable, but
// expired entries are then only replaced, never cleaned up. Close is
// idempotent and returns nil.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() { _ = c.bc.Close() })
	return nil
}

// nopLogger keeps bigcache quiet whatever its configuration.
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
