package main

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func addr(s string) netip.Addr           { return netip.MustParseAddr(s) }

func TestThrottleFailuresOnly(t *testing.T) {
	clock := newFakeClock()
	th := newThrottle(5, 10*time.Second, 100, clock.now)
	ip := addr("203.0.113.7")
	for i := range 5 {
		assert.Zero(t, waitMax(th, "alice", ip), "attempt %d", i+1)
		th.fail("alice", ip)
	}
	wait := waitMax(th, "alice", ip)
	assert.Equal(t, 10*time.Second, wait)
	assert.Equal(t, 10*time.Second, waitMax(th, "alice", addr("198.51.100.1")), "by username from anywhere")
	assert.Equal(t, 10*time.Second, waitMax(th, "bob", ip), "by IP for anyone")
	assert.Zero(t, waitMax(th, "bob", addr("198.51.100.1")), "others are not affected")

	clock.add(4 * time.Second)
	assert.Equal(t, 6*time.Second, waitMax(th, "alice", ip))
	clock.add(6 * time.Second)
	assert.Zero(t, waitMax(th, "alice", ip), "one token back after 10s")
	th.fail("alice", ip)
	assert.Equal(t, 10*time.Second, waitMax(th, "alice", ip))

	clock.add(time.Minute)
	th.sweep()
	users, ips := th.size()
	assert.Zero(t, users+ips, "refilled buckets are dropped")
}

func TestThrottleIPv6ByPrefix(t *testing.T) {
	clock := newFakeClock()
	th := newThrottle(1, time.Minute, 100, clock.now)
	th.fail("u1", addr("2001:db8:1:2::1"))
	assert.Positive(t, waitMax(th, "u2", addr("2001:db8:1:2:ffff::9")), "same /64")
	assert.Zero(t, waitMax(th, "u2", addr("2001:db8:1:3::1")), "other /64")
	th.fail("u3", addr("::ffff:192.0.2.1"))
	assert.Positive(t, waitMax(th, "u4", addr("192.0.2.1")), "mapped IPv4 is IPv4")
}

func TestThrottleBounded(t *testing.T) {
	clock := newFakeClock()
	th := newThrottle(5, 10*time.Second, 50, clock.now)
	for i := range 500 {
		th.fail(fmt.Sprintf("user%d", i), netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		clock.add(time.Millisecond)
	}
	users, ips := th.size()
	assert.LessOrEqual(t, users, 50)
	assert.LessOrEqual(t, ips, 50)
	// The most recent failures are kept.
	th.fail("user499", addr("10.0.1.243"))
	for range 3 {
		th.fail("user499", addr("10.0.1.243"))
	}
	assert.Positive(t, waitMax(th, "user499", addr("192.0.2.1")))
}

// waitMax is how long until both buckets of an attempt allow a failure.
func waitMax(th *throttle, username string, ip netip.Addr) time.Duration {
	ipWait, userWait := th.wait(username, ip)
	return max(ipWait, userWait)
}
