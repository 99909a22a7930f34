package throttle

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultBurst      = 5
	DefaultEvery      = 10 * time.Second
	DefaultMaxEntries = 10_000
)

// ErrLimited is wrapped by every error of Begin and returned by Fail when
// the client must wait: answer it 429 too_many_requests with a Retry-After
// of RetryAfter (see *LimitedError).
var ErrLimited = errors.New("throttle: too many login attempts")

// LimitedError is the error Begin and Attempt.Fail return: errors.Is(err,
// ErrLimited) holds and RetryAfter (at least one second) says when to try
// again.
type LimitedError struct {
	RetryAfter time.Duration
	// Reason is "address", "username" or "concurrency".
	Reason string
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("%v (%s), retry after %s", ErrLimited, e.Reason, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrLimited) hold.
func (e *LimitedError) Unwrap() error { return ErrLimited }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value of the Retry-After header.
func (e *LimitedError) RetryAfterSeconds() int64 {
	return max(int64((e.RetryAfter+time.Second-1)/time.Second), 1)
}

// Config configures a Throttle. The zero value is valid.
type Config struct {
	// Burst is how many failures a bucket holds. Optional. Default
	// DefaultBurst (5).
	Burst int
	// Every is how often a bucket gets one failure back. Optional.
	// Default DefaultEvery (10s).
	Every time.Duration
	// MaxEntries bounds each of the two bucket maps; past it idle buckets,
	// else the least recently failed one, are dropped. Optional. Default
	// DefaultMaxEntries.
	MaxEntries int
	// MaxConcurrent bounds the password checks running at once (Begin to
	// Succeed or Fail). Optional. Default 2 × GOMAXPROCS.
	MaxConcurrent int
	// MaxWait is how long Begin waits for a free check slot before it
	// refuses. Optional. Default 0: refuse at once.
	MaxWait time.Duration
	// Now is the clock. Optional. Default time.Now.
	Now func() time.Time
}

// Throttle limits failed logins. It is safe for concurrent use.
type Throttle struct {
	burst float64
	every time.Duration
	max   int
	now   func() time.Time
	slots chan struct{}
	wait  time.Duration

	mu    sync.Mutex
	users map[string]*bucket
	addrs map[string]*bucket
}

// bucket is a token bucket: tokens at time last, refilling one per every.
type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Throttle for cfg; zero or negative fields take their
// defaults.
func New(cfg Config) *Throttle {
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{
		burst: float64(cfg.Burst), every: cfg.Every, max: cfg.MaxEntries, now: cfg.Now,
		slots: make(chan struct{}, cfg.MaxConcurrent), wait: cfg.MaxWait,
		users: map[string]*bucket{}, addrs: map[string]*bucket{},
	}
}

// AddrKey is the bucket key of a client address: the address itself, or
// its /64 for IPv6 (one client usually holds a whole /64).
func AddrKey(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// Attempt is one admitted login attempt. Exactly one of Succeed or Fail
// must be called once the password has been checked; both are no-ops on
// a finished attempt.
type Attempt struct {
	t        *Throttle
	user     string
	addr     string
	userTook bool          // a username token was taken
	userWait time.Duration // the username bucket was empty at Begin
	once     sync.Once
}

// Begin admits a login attempt for username from ip before its password
// is checked. It takes a concurrency slot and a failure token from the
// address's bucket (and one from the username's bucket when it has one).
// It returns a *LimitedError (errors.Is ErrLimited) without checking
// anything when the address's bucket is empty or MaxConcurrent checks
// are running.
func (t *Throttle) Begin(username string, ip netip.Addr) (*Attempt, error) {
	if !t.acquire() {
		return nil, &LimitedError{RetryAfter: time.Second, Reason: "concurrency"}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a := &Attempt{t: t, user: username, addr: AddrKey(ip)}
	ab := t.get(t.addrs, a.addr, now)
	if ab.tokens < 1 {
		<-t.slots
		return nil, &LimitedError{RetryAfter: t.waitOf(ab), Reason: "address"}
	}
	ab.tokens--
	ub := t.get(t.users, username, now)
	if ub.tokens >= 1 {
		ub.tokens--
		a.userTook = true
	} else {
		a.userWait = t.waitOf(ub)
	}
	return a, nil
}

// acquire takes a check slot, waiting at most t.wait for one.
func (t *Throttle) acquire() bool {
	select {
	case t.slots <- struct{}{}:
		return true
	default:
	}
	if t.wait <= 0 {
		return false
	}
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	}
}

// Succeed ends a correct login: it gives the taken tokens back and frees
// the concurrency slot. Successes therefore never count.
func (a *Attempt) Succeed() {
	a.once.Do(func() {
		t := a.t
		t.mu.Lock()
		now := t.now()
		t.giveBack(t.addrs, a.addr, now)
		if a.userTook {
			t.giveBack(t.users, a.user, now)
		}
		t.mu.Unlock()
		<-t.slots
	})
}

// Fail ends a failed login: the tokens stay taken. It returns a
// *LimitedError when the username's bucket was already empty (answer 429
// rather than "invalid credentials", so the guess is not confirmed either
// way), else nil.
func (a *Attempt) Fail() error {
	var err error
	a.once.Do(func() {
		<-a.t.slots
		if a.userWait > 0 {
			err = &LimitedError{RetryAfter: a.userWait, Reason: "username"}
		}
	})
	return err
}

// get returns key's bucket in m refilled to now, creating a full one.
func (t *Throttle) get(m map[string]*bucket, key string, now time.Time) *bucket {
	b := m[key]
	if b == nil {
		if len(m) >= t.max {
			t.evict(m, now)
		}
		b = &bucket{tokens: t.burst, last: now}
		m[key] = b
		return b
	}
	t.refill(b, now)
	return b
}

func (t *Throttle) refill(b *bucket, now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(t.burst, b.tokens+float64(now.Sub(b.last))/float64(t.every))
		b.last = now
	}
}

func (t *Throttle) giveBack(m map[string]*bucket, key string, now time.Time) {
	if b := m[key]; b != nil {
		t.refill(b, now)
		b.tokens = math.Min(t.burst, b.tokens+1)
		if b.tokens >= t.burst {
			delete(m, key) // a full bucket is the same as none
		}
	}
}

// waitOf is how long until b (refilled) holds one token.
func (t *Throttle) waitOf(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return max(time.Duration(math.Ceil((1-b.tokens)*float64(t.every))), time.Second)
}

// evict makes room in m: it drops every full bucket, or, when none is
// full, the least recently touched one.
func (t *Throttle) evict(m map[string]*bucket, now time.Time) {
	var oldestKey string
	var oldest time.Time
	removed := false
	for k, b := range m {
		t.refill(b, now)
		if b.tokens >= t.burst {
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

// Sweep drops refilled buckets; call it now and then (the reference
// server does on its prune interval).
func (t *Throttle) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, m := range []map[string]*bucket{t.users, t.addrs} {
		for k, b := range m {
			t.refill(b, now)
			if b.tokens >= t.burst {
				delete(m, k)
			}
		}
	}
}

// Len returns the number of username and address buckets held.
func (t *Throttle) Len() (users, addrs int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.users), len(t.addrs)
}
