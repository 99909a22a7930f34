package pgbus_test

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/pgbus"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

// proxiedBus returns a Bus whose listener goes through a pausing proxy
// (its publishing pool does not), with the default 30 s ping, so that
// only the heartbeat can notice a stall.
func proxiedBus(t *testing.T, dsn string, opts ...pgbus.Option) (*pgbus.Bus, *proxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err, "needs a URL DSN (%s) to insert a proxy", pgtest.EnvURL)
	proxy := newProxy(t, u.Host)
	host, port, err := net.SplitHostPort(proxy.Addr())
	require.NoError(t, err)
	bus := newBus(t, withParams(dsn, map[string]string{"host": host, "port": port}),
		append([]pgbus.Option{pgbus.WithDB(openDB(t, dsn))}, opts...)...)
	t.Cleanup(func() { proxy.Freeze(false) }) // before Close (cleanups run in reverse)
	healthy(t, bus)
	return bus, proxy
}

// TestHeartbeatNoticesStalledListener: the listener's connection stays
// open but delivers nothing. The Bus is unhealthy within 2 × the
// heartbeat (not at the next 30 s ping); when the bytes flow again it
// flushes the subscribers before it is healthy again, and what was
// published meanwhile is delivered.
func TestHeartbeatNoticesStalledListener(t *testing.T) {
	const beat = 50 * time.Millisecond
	bus, proxy := proxiedBus(t, pgtest.DSN(t), pgbus.WithHeartbeat(beat))
	rec := new(porttest.BusRecorder)
	bus.Subscribe(rec.Record)
	// worst is the longest after the stall that Healthy() was seen true:
	// measured right after the call, so scheduling delays cannot make a
	// late observation look healthy.
	var worst time.Duration
	for range 5 {
		require.True(t, bus.Healthy())
		stalled := time.Now()
		proxy.Freeze(true)
		for {
			h := bus.Healthy()
			since := time.Since(stalled)
			if !h {
				break
			}
			worst = max(worst, since)
			require.Less(t, since, wait, "never noticed")
			time.Sleep(time.Millisecond)
		}
		flushes := rec.Flushes()
		require.NoError(t, bus.Publish(context.Background(), "while-stalled"))
		proxy.Freeze(false)
		require.Eventually(t, bus.Healthy, wait, time.Millisecond)
		assert.Greater(t, rec.Flushes(), flushes, "flushed before healthy again")
	}
	t.Logf("heartbeat %v: a stalled listener was still healthy at most %v after the stall (bound %v)", beat, worst, 2*beat)
	assert.Less(t, worst, 2*beat+20*time.Millisecond)
	require.Eventually(t, func() bool { return len(rec.Keys()) == 5 }, wait, time.Millisecond)
}

// TestSync: A's Sync returns once its marker came back and B, the other
// Bus on the channel, acknowledged it after delivering what came before,
// so B's subscribers have every key A published before Sync. With B's
// listener stalled, Sync still returns within twice the heartbeat (B is
// bypassing its cache by then); with A's own listener stalled it fails,
// unavailable, within the sync timeout.
func TestSync(t *testing.T) {
	const beat = 100 * time.Millisecond
	dsn := pgtest.DSN(t)
	b, bProxy := proxiedBus(t, dsn, pgbus.WithHeartbeat(beat))
	a, aProxy := proxiedBus(t, dsn, pgbus.WithHeartbeat(beat), pgbus.WithSyncTimeout(time.Second))
	rec := new(porttest.BusRecorder)
	b.Subscribe(rec.Record)
	time.Sleep(2 * beat) // A hears of B
	ctx := context.Background()
	var lat []time.Duration
	for i := range 200 {
		require.NoError(t, a.Publish(ctx, "k"+strconv.Itoa(i)))
		start := time.Now()
		require.NoError(t, a.Sync(ctx))
		lat = append(lat, time.Since(start))
		require.Len(t, rec.Keys(), i+1, "B delivered the key before A's Sync returned")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("Sync with one other Bus over 200 calls: p50 %v, p99 %v", lat[100], lat[198])

	bProxy.Freeze(true)
	start := time.Now()
	require.NoError(t, a.Sync(ctx), "a deaf peer is excused")
	took := time.Since(start)
	assert.Less(t, took, 2*beat+100*time.Millisecond)
	assert.False(t, b.Healthy(), "by then the deaf Bus bypasses its cache")
	t.Logf("Sync with the other Bus deaf: %v", took)
	bProxy.Freeze(false)

	aProxy.Freeze(true)
	start = time.Now()
	err := a.Sync(ctx)
	require.ErrorIs(t, err, domain.ErrUnavailable, "its own marker never came back")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// BenchmarkHeartbeat is the cost of one heartbeat round trip (a NOTIFY
// through the pool and its delivery back on the listener), against a
// plain Publish of one key (the baseline: the NOTIFY alone). At the
// default interval an instance pays this 4 times a second.
func BenchmarkHeartbeat(b *testing.B) {
	dsn := pgtest.DSN(b)
	bus, err := pgbus.New(dsn, pgbus.WithDB(openDB(b, dsn)), pgbus.WithHeartbeat(0),
		pgbus.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	b.Cleanup(func() { _ = bus.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(b, bus.WaitHealthy(ctx))
	b.Run("publish", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			require.NoError(b, bus.Publish(context.Background(), "k"))
		}
	})
	b.Run("heartbeat-round-trip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			require.NoError(b, bus.Sync(context.Background()))
		}
	})
}
