package dpop

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayCache remembers accepted proofs by key thumbprint and jti for a
// fixed window, in at most size entries. Entries are kept in insertion
// order, and since each expires window after it was added, the oldest
// expires first: expired entries are dropped from the front in O(1) per
// entry. When size unexpired entries are held, add fails closed with
// ErrCacheFull.
type replayCache struct {
	mu     sync.Mutex
	window time.Duration
	seen   map[[16]byte]struct{}
	ring   []replayEntry // circular, len(ring) == size
	head   int           // oldest entry
	n      int           // entries held
}

type replayEntry struct {
	id      [16]byte
	expires int64 // unix nanoseconds
}

func newReplayCache(size int, window time.Duration) *replayCache {
	return &replayCache{window: window, seen: make(map[[16]byte]struct{}), ring: make([]replayEntry, size)}
}

// add records the proof (jkt, jti) at now. It returns ErrReplay when the
// proof is held already and ErrCacheFull when there is no room.
func (c *replayCache) add(jkt, jti string, now time.Time) error {
	// SHA-256(jkt || 0 || jti), in a stack buffer when it fits.
	var buf [160]byte
	sum := sha256.Sum256(append(append(append(buf[:0], jkt...), 0), jti...))
	var id [16]byte
	copy(id[:], sum[:])
	t := now.UnixNano()

	c.mu.Lock()
	defer c.mu.Unlock()
	for c.n > 0 && c.ring[c.head].expires <= t {
		delete(c.seen, c.ring[c.head].id)
		c.ring[c.head] = replayEntry{}
		c.head = (c.head + 1) % len(c.ring)
		c.n--
	}
	if _, dup := c.seen[id]; dup {
		return ErrReplay
	}
	if c.n == len(c.ring) {
		return ErrCacheFull
	}
	c.seen[id] = struct{}{}
	c.ring[(c.head+c.n)%len(c.ring)] = replayEntry{id: id, expires: t + c.window.Nanoseconds()}
	c.n++
	return nil
}

// len returns the number of entries held.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
