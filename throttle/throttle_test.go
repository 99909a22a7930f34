package throttle_test

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/throttle"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func fail(t *testing.T, th *throttle.Throttle, user string, ip netip.Addr) error {
	t.Helper()
	a, err := th.Begin(user, ip)
	if err != nil {
		return err
	}
	return a.Fail()
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	le, ok := errors.AsType[*throttle.LimitedError](err)
	require.True(t, ok, "want a *LimitedError, got %v", err)
	require.ErrorIs(t, err, throttle.ErrLimited)
	return le.RetryAfter
}

// TestConcurrentGuessesCheckAtMostTheBurst: 100 guesses from one address
// at once, each holding its check open until all have been admitted or
// refused: at most Burst are checked, the rest refused before any check.
func TestConcurrentGuessesCheckAtMostTheBurst(t *testing.T) {
	const burst, guesses = 5, 100
	th := throttle.New(throttle.Config{Burst: burst, Every: time.Hour, MaxConcurrent: guesses})
	var checked, refused atomic.Int32
	var start, admitted sync.WaitGroup
	start.Add(1)
	admitted.Add(guesses)
	var wg sync.WaitGroup
	for range guesses {
		wg.Go(func() {
			start.Wait()
			a, err := th.Begin("alice", addr("203.0.113.7"))
			admitted.Done()
			if err != nil {
				assert.ErrorIs(t, err, throttle.ErrLimited)
				refused.Add(1)
				return
			}
			checked.Add(1)
			admitted.Wait() // the check is still running while every other guess arrives
			_ = a.Fail()
		})
	}
	start.Done()
	wg.Wait()
	assert.Equal(t, burst, int(checked.Load()), "passwords checked: the burst, no more")
	assert.Equal(t, guesses, int(checked.Load()+refused.Load()))
}

// TestConcurrencyBound: with MaxConcurrent checks running, the next Begin
// is refused at once from any address, and admitted again once one ends.
func TestConcurrencyBound(t *testing.T) {
	th := throttle.New(throttle.Config{MaxConcurrent: 3})
	var running []*throttle.Attempt
	for i := range 3 {
		a, err := th.Begin("u", addr("198.51.100."+string(rune('1'+i))))
		require.NoError(t, err)
		running = append(running, a)
	}
	_, err := th.Begin("v", addr("192.0.2.1"))
	assert.Equal(t, time.Second, retryAfter(t, err))
	running[0].Succeed()
	running[0].Succeed() // idempotent: frees one slot only
	a, err := th.Begin("v", addr("192.0.2.1"))
	require.NoError(t, err)
	_, err = th.Begin("w", addr("192.0.2.2"))
	assert.ErrorIs(t, err, throttle.ErrLimited)
	a.Succeed()
	running[1].Succeed()
	assert.NoError(t, running[2].Fail())
}

// TestConcurrencyBoundUnderLoad: many goroutines at once, each admitted
// one holding its attempt open until every goroutine has been admitted or
// refused: exactly MaxConcurrent are ever inside, the rest are refused.
func TestConcurrencyBoundUnderLoad(t *testing.T) {
	const limit, n = 4, 200
	th := throttle.New(throttle.Config{MaxConcurrent: limit, Burst: 1000})
	var inside, peak, refused atomic.Int32
	var wg, arrived sync.WaitGroup
	arrived.Add(n)
	for i := range n {
		wg.Go(func() {
			a, err := th.Begin("u", addr("203.0.113.1"))
			if err != nil {
				assert.ErrorIs(t, err, throttle.ErrLimited)
				refused.Add(1)
				arrived.Done()
				return
			}
			in := inside.Add(1)
			for {
				p := peak.Load()
				if in <= p || peak.CompareAndSwap(p, in) {
					break
				}
			}
			arrived.Done()
			arrived.Wait() // the attempt stays open while every other one arrives
			inside.Add(-1)
			if i%2 == 0 {
				a.Succeed()
			} else {
				_ = a.Fail()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, limit, int(peak.Load()), "attempts inside at once")
	assert.Equal(t, n-limit, int(refused.Load()))
}

func TestBucketsRefillAndSuccessGivesBack(t *testing.T) {
	c := newClock()
	th := throttle.New(throttle.Config{Burst: 3, Every: 10 * time.Second, Now: c.now})
	ip := addr("203.0.113.7")
	for range 3 {
		require.NoError(t, fail(t, th, "alice", ip))
	}
	err := fail(t, th, "alice", ip)
	assert.Equal(t, 10*time.Second, retryAfter(t, err), "address exhausted")
	_, err = th.Begin("bob", ip)
	assert.ErrorIs(t, err, throttle.ErrLimited, "the address is refused for anyone")

	c.add(4 * time.Second)
	_, err = th.Begin("alice", ip)
	assert.Equal(t, 6*time.Second, retryAfter(t, err))
	c.add(6 * time.Second)
	a, err := th.Begin("carol", ip)
	require.NoError(t, err, "one token back after 10s")
	a.Succeed()
	a, err = th.Begin("carol", ip)
	require.NoError(t, err, "a success gives its token back")
	a.Succeed()
	users, addrs := th.Len()
	assert.Equal(t, 1, users, "alice's bucket")
	assert.Equal(t, 1, addrs)
	c.add(time.Minute)
	th.Sweep()
	users, addrs = th.Len()
	assert.Zero(t, users+addrs, "refilled buckets are dropped")
}

// TestVictimNotLockedOut: guesses from many addresses empty the username's
// bucket; further wrong guesses are 429, the owner's right password from
// its own address logs in.
func TestVictimNotLockedOut(t *testing.T) {
	c := newClock()
	th := throttle.New(throttle.Config{Burst: 2, Every: time.Minute, Now: c.now})
	for i := range 10 {
		err := fail(t, th, "alice", addr("198.51.100."+[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}[i]))
		if i >= 2 {
			assert.ErrorIs(t, err, throttle.ErrLimited, "guess %d", i+1)
		}
	}
	a, err := th.Begin("alice", addr("192.0.2.50"))
	require.NoError(t, err, "the owner's address is in good standing")
	a.Succeed()
	a, err = th.Begin("alice", addr("192.0.2.50"))
	require.NoError(t, err)
	assert.ErrorIs(t, a.Fail(), throttle.ErrLimited, "a wrong guess from there is held back")
}

func TestIPv6ByPrefix(t *testing.T) {
	th := throttle.New(throttle.Config{Burst: 1, Every: time.Minute})
	require.NoError(t, fail(t, th, "a", addr("2001:db8:1:2::1")))
	_, err := th.Begin("b", addr("2001:db8:1:2:ffff::9"))
	assert.ErrorIs(t, err, throttle.ErrLimited, "same /64")
	a, err := th.Begin("b", addr("2001:db8:1:3::1"))
	require.NoError(t, err, "another /64")
	a.Succeed()
	assert.Equal(t, "203.0.113.1", throttle.AddrKey(addr("::ffff:203.0.113.1")))
}

func TestBounded(t *testing.T) {
	th := throttle.New(throttle.Config{Burst: 5, Every: time.Hour, MaxEntries: 50})
	for i := range 500 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		_ = fail(t, th, "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), ip)
	}
	users, addrs := th.Len()
	assert.LessOrEqual(t, users, 50)
	assert.LessOrEqual(t, addrs, 50)
}

func TestMaxWaitQueuesBriefly(t *testing.T) {
	th := throttle.New(throttle.Config{MaxConcurrent: 1, MaxWait: time.Minute})
	a, err := th.Begin("u", addr("192.0.2.1"))
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		b, err := th.Begin("v", addr("192.0.2.2"))
		if err == nil {
			b.Succeed()
		}
		got <- err
	}()
	a.Succeed()
	select {
	case err := <-got:
		assert.NoError(t, err, "admitted once the slot is free")
	case <-time.After(10 * time.Second):
		t.Fatal("Begin did not return")
	}
}
