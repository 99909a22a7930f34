package main

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Login throttling defaults: 5 failures in a burst, then one more every
// 10 seconds, per username and per client IP.
const (
	throttleBurst      = 5
	throttleEvery      = 10 * time.Second
	throttleMaxEntries = 10_000
)

// throttle limits FAILED logins with token buckets per username and per
// client address (IPv6 by /64, since one client usually holds a whole
// /64). Only failures take tokens. An address whose bucket is empty gets
// 429 for every attempt, so one client cannot guess faster than its bucket
// allows; a username whose bucket is empty gets 429 for failed attempts
// only, so guessing against a victim can never lock the victim out. A
// successful login takes no token. It is safe for concurrent use.
type throttle struct {
	burst int
	every time.Duration
	max   int // entries per map; idle ones are evicted first
	now   func() time.Time

	mu    sync.Mutex
	users map[string]*bucket
	ips   map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // last failure
}

func newThrottle(burst int, every time.Duration, maxEntries int, now func() time.Time) *throttle {
	if now == nil {
		now = time.Now
	}
	return &throttle{
		burst: burst, every: every, max: maxEntries, now: now,
		users: map[string]*bucket{}, ips: map[string]*bucket{},
	}
}

// ipKey is the bucket key of a client address.
func ipKey(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// wait returns how long until ip's bucket and username's bucket allow
// another failure; zero means the bucket is not empty. The server refuses
// every attempt from an exhausted address, but only failed attempts
// against an exhausted username.
func (t *throttle) wait(username string, ip netip.Addr) (ipWait, userWait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return t.waitOf(t.ips[ipKey(ip)], now), t.waitOf(t.users[username], now)
}

func (t *throttle) waitOf(b *bucket, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(t.every)))
}

// fail records a failed login for username from ip.
func (t *throttle) fail(username string, ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.take(t.users, username, now)
	t.take(t.ips, ipKey(ip), now)
}

func (t *throttle) take(m map[string]*bucket, key string, now time.Time) {
	b := m[key]
	if b == nil {
		if len(m) >= t.max {
			t.evict(m, now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(t.every), t.burst)}
		m[key] = b
	}
	b.last = now
	b.lim.AllowN(now, 1)
}

// evict makes room in m: it drops every idle bucket (refilled: dropping it
// changes nothing), or, when none is idle, the least recently failed one.
func (t *throttle) evict(m map[string]*bucket, now time.Time) {
	var oldestKey string
	var oldest time.Time
	removed := false
	for k, b := range m {
		if b.lim.TokensAt(now) >= float64(t.burst) {
			delete(m, k)
			removed = true
			continue
		}
		if oldestKey == "" || b.last.Before(oldest) {
			oldestKey, oldest = k, b.last
		}
	}
	if !removed && oldestKey != "" {
		delete(m, oldestKey)
	}
}

// sweep drops idle buckets; the pruner calls it now and then.
func (t *throttle) sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, m := range []map[string]*bucket{t.users, t.ips} {
		for k, b := range m {
			if b.lim.TokensAt(now) >= float64(t.burst) {
				delete(m, k)
			}
		}
	}
}

// size returns the number of buckets (for tests).
func (t *throttle) size() (users, ips int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.users), len(t.ips)
}
