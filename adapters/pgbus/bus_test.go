package pgbus_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/pgbus"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

// wait bounds every wait for a delivery or a state change.
const wait = 10 * time.Second

// newBus returns an open Bus on dsn, closed when t ends. It logs to t.
func newBus(t *testing.T, dsn string, opts ...pgbus.Option) *pgbus.Bus {
	t.Helper()
	opts = append([]pgbus.Option{pgbus.WithLogger(testLogger(t))}, opts...)
	b, err := pgbus.New(dsn, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, b.Close()) })
	return b
}

// healthy waits until b is healthy.
func healthy(t *testing.T, b *pgbus.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, b.WaitHealthy(ctx))
}

func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// withParams returns dsn (a URL or a key=value string) with the given
// connection parameters set.
func withParams(dsn string, params map[string]string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for k, v := range params {
			if k == "host" || k == "port" {
				continue
			}
			q.Set(k, v)
		}
		if host, ok := params["host"]; ok {
			u.Host = net.JoinHostPort(host, params["port"])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += " " + k + "=" + v
	}
	return dsn
}

func uniqueName(prefix string) string { return prefix + strings.ToLower(rand.Text()) }

func TestBusSuite(t *testing.T) {
	porttest.BusSuite(t, func(t *testing.T) (ports.Publisher, []ports.Bus) {
		dsn := pgtest.DSN(t)
		channel := uniqueName("jwtauth_test_")
		pub := newBus(t, dsn, pgbus.WithChannel(channel))
		a := newBus(t, dsn, pgbus.WithChannel(channel))
		b := newBus(t, dsn, pgbus.WithChannel(channel))
		return pub, []ports.Bus{a, b}
	})
}

// TestNotifyIsTransactional checks the property the store relies on: a
// pg_notify inside a transaction is delivered when, and only when, the
// transaction commits.
func TestNotifyIsTransactional(t *testing.T) {
	dsn := pgtest.DSN(t)
	bus := newBus(t, dsn)
	rec := new(porttest.BusRecorder)
	bus.Subscribe(rec.Record)
	healthy(t, bus)
	db := openDB(t, dsn)
	ctx := context.Background()
	notify := func(tx *sql.Tx, payload string) {
		t.Helper()
		_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, pgbus.DefaultChannel, payload)
		require.NoError(t, err)
	}
	waitFor := func(want ...string) {
		t.Helper()
		require.Eventually(t, func() bool { return len(rec.Keys()) >= len(want) }, wait, 5*time.Millisecond, "got %s", rec)
		require.Equal(t, want, rec.Keys())
	}

	rolledBack, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	notify(rolledBack, "rolled-back")
	require.NoError(t, rolledBack.Rollback())

	pending, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	notify(pending, "committed-1\ncommitted-2")
	// Notifications are delivered in commit order: once the marker,
	// committed after both transactions began, has arrived, the rolled
	// back one never will, and the open one has not yet.
	require.NoError(t, bus.Publish(ctx, "marker"))
	waitFor("marker")
	require.NoError(t, pending.Commit())
	waitFor("marker", "committed-1", "committed-2")
}

// TestListenerLoss kills the listener's backend: the Bus must flush and
// become unhealthy, reconnect, flush again, become healthy and deliver
// again.
func TestListenerLoss(t *testing.T) {
	dsn := pgtest.DSN(t)
	app := uniqueName("jwtauth_bus_")
	admin := openDB(t, dsn)
	// Only the listener carries the application name: it can be told
	// from every other connection, this test's publishing pool included.
	bus := newBus(t, withParams(dsn, map[string]string{"application_name": app}),
		pgbus.WithDB(admin), pgbus.WithReconnectInterval(20*time.Millisecond, 200*time.Millisecond))
	var (
		mu sync.Mutex
		// healthAtFlush records Healthy() as each nil flush arrives.
		healthAtFlush []bool
	)
	rec := new(porttest.BusRecorder)
	bus.Subscribe(rec.Record)
	bus.Subscribe(func(keys []string) {
		if keys == nil {
			mu.Lock()
			healthAtFlush = append(healthAtFlush, bus.Healthy())
			mu.Unlock()
		}
	})
	flushes := func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return append([]bool(nil), healthAtFlush...)
	}
	healthy(t, bus)
	ctx := context.Background()
	require.NoError(t, bus.Publish(ctx, "before"))
	require.Eventually(t, func() bool { return len(rec.Keys()) == 1 }, wait, 5*time.Millisecond)
	require.Empty(t, flushes())

	backends := func() int {
		var n int
		require.NoError(t, admin.QueryRowContext(ctx,
			`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n))
		return n
	}
	require.Equal(t, 1, backends(), "the listener")
	assert.Zero(t, bus.Reconnects())
	var killed int
	require.NoError(t, admin.QueryRowContext(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`,
		app).Scan(&killed))
	require.Equal(t, 1, killed, "exactly this test's listener")

	// The loss flushes once, the reconnection once more, both while
	// unhealthy; then the Bus is healthy again. Healthy() itself is not
	// polled for false: reconnecting can take a few milliseconds only.
	require.Eventually(t, func() bool { return len(flushes()) >= 2 }, wait, 5*time.Millisecond)
	require.Eventually(t, bus.Healthy, wait, 5*time.Millisecond)
	assert.Equal(t, []bool{false, false}, flushes(), "flushes arrive while unhealthy")
	// pg_terminate_backend only signals: the killed backend may linger in
	// pg_stat_activity for a moment after the new one connected.
	assert.Eventually(t, func() bool { return backends() == 1 }, wait, 5*time.Millisecond, "a new listener connection, the old one gone")
	assert.Equal(t, uint64(1), bus.Reconnects())

	require.NoError(t, bus.Publish(ctx, "after"))
	require.Eventually(t, func() bool { return len(rec.Keys()) == 2 }, wait, 5*time.Millisecond)
	assert.Equal(t, []string{"before", "after"}, rec.Keys())
	assert.Equal(t, 2, rec.Flushes())
}

// TestStalledConnection freezes the listener's connection (a proxy stops
// forwarding the server's bytes, as a dead network would): the ping times
// out, the Bus flushes and turns unhealthy; when the bytes flow again
// the ping answers, the Bus is healthy again, and what was published
// meanwhile is delivered.
func TestStalledConnection(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		// Like pgtest: CI must not pass by skipping.
		if os.Getenv("CI") == "true" {
			t.Fatal("needs a URL DSN (" + pgtest.EnvURL + ") to insert a proxy")
		}
		t.Skip("needs a URL DSN (" + pgtest.EnvURL + ") to insert a proxy")
	}
	proxy := newProxy(t, u.Host)
	host, port, err := net.SplitHostPort(proxy.Addr())
	require.NoError(t, err)
	bus := newBus(t, withParams(dsn, map[string]string{"host": host, "port": port}),
		pgbus.WithDB(openDB(t, dsn)), pgbus.WithPingInterval(50*time.Millisecond))
	// Cleanups run last-registered first: thaw the connection before
	// Close, which otherwise waits forever for a ping stuck on it when the
	// test fails while frozen.
	t.Cleanup(func() { proxy.Freeze(false) })
	rec := new(porttest.BusRecorder)
	bus.Subscribe(rec.Record)
	healthy(t, bus)
	// pq's first connection event and the first ping may still flush
	// nothing; start counting now.
	require.Equal(t, 0, rec.Flushes())

	proxy.Freeze(true)
	require.Eventually(t, func() bool { return rec.Flushes() >= 1 }, wait, 5*time.Millisecond, "a stalled ping flushes")
	assert.False(t, bus.Healthy())
	require.NoError(t, bus.Publish(context.Background(), "while-stalled"))

	proxy.Freeze(false)
	require.Eventually(t, bus.Healthy, wait, 5*time.Millisecond)
	require.Eventually(t, func() bool { return len(rec.Keys()) == 1 }, wait, 5*time.Millisecond)
	assert.Equal(t, []string{"while-stalled"}, rec.Keys())
}

func TestPublishValidatesKeys(t *testing.T) {
	bus, err := pgbus.New("postgres://postgres@127.0.0.1:1/none?sslmode=disable",
		pgbus.WithLogger(slog.New(slog.DiscardHandler)), pgbus.WithReconnectInterval(10*time.Millisecond, 50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, bus.Close()) })
	ctx := context.Background()
	tests := []struct {
		name    string
		keys    []string
		wantErr error
	}{
		{name: "no keys", keys: nil},
		{name: "empty key", keys: []string{"a", ""}, wantErr: domain.ErrInvalidArgument},
		{name: "newline", keys: []string{"a\nb"}, wantErr: domain.ErrInvalidArgument},
		{name: "NUL", keys: []string{"a\x00b"}, wantErr: domain.ErrInvalidArgument},
		{name: "not UTF-8", keys: []string{"a\xffb"}, wantErr: domain.ErrInvalidArgument},
		{name: "too long", keys: []string{strings.Repeat("k", pgbus.MaxPayload+1)}, wantErr: domain.ErrInvalidArgument},
		{name: "database down", keys: []string{"a"}, wantErr: domain.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bus.Publish(ctx, tt.keys...)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		opts []pgbus.Option
	}{
		{name: "bad DSN", dsn: "postgres://u@host:notaport/db"},
		{name: "empty channel", opts: []pgbus.Option{pgbus.WithChannel("")}},
		{name: "long channel", opts: []pgbus.Option{pgbus.WithChannel(strings.Repeat("c", 64))}},
		{name: "zero reconnect", opts: []pgbus.Option{pgbus.WithReconnectInterval(0, time.Second)}},
		{name: "max under min", opts: []pgbus.Option{pgbus.WithReconnectInterval(time.Second, time.Millisecond)}},
		{name: "zero ping", opts: []pgbus.Option{pgbus.WithPingInterval(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := tt.dsn
			if dsn == "" {
				dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
			}
			b, err := pgbus.New(dsn, tt.opts...)
			assert.ErrorIs(t, err, domain.ErrInvalidArgument)
			assert.Nil(t, b)
		})
	}
}

// TestUnreachable: a Bus whose database does not answer is unhealthy,
// WaitHealthy honours its context, and Close does not hang.
func TestUnreachable(t *testing.T) {
	bus, err := pgbus.New("postgres://postgres@127.0.0.1:1/none?sslmode=disable",
		pgbus.WithLogger(testLogger(t)), pgbus.WithReconnectInterval(10*time.Millisecond, 50*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, bus.WaitHealthy(ctx), context.DeadlineExceeded)
	assert.False(t, bus.Healthy())
	require.NoError(t, bus.Close())
	assert.ErrorIs(t, bus.WaitHealthy(context.Background()), pgbus.ErrClosed)
}

// TestClose: Close is idempotent, stops every goroutine the Bus started,
// and nothing is delivered or published afterwards.
func TestClose(t *testing.T) {
	dsn := pgtest.DSN(t)
	pub := newBus(t, dsn)
	pubRec := new(porttest.BusRecorder)
	pub.Subscribe(pubRec.Record)
	healthy(t, pub)
	before := busGoroutines()

	bus, err := pgbus.New(dsn, pgbus.WithLogger(testLogger(t)))
	require.NoError(t, err)
	rec := new(porttest.BusRecorder)
	bus.Subscribe(rec.Record)
	healthy(t, bus)
	assert.Greater(t, busGoroutines(), before)

	require.NoError(t, bus.Close())
	require.NoError(t, bus.Close())
	assert.False(t, bus.Healthy())
	assert.ErrorIs(t, bus.Publish(context.Background(), "k"), pgbus.ErrClosed)
	assert.ErrorIs(t, bus.Publish(context.Background(), "k"), domain.ErrUnavailable)
	if !assert.Eventually(t, func() bool { return busGoroutines() <= before }, wait, 5*time.Millisecond,
		"goroutines: %d before New, %d after Close", before, busGoroutines()) {
		buf := make([]byte, 1<<20)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
	}

	require.NoError(t, pub.Publish(context.Background(), "after-close"))
	require.Eventually(t, func() bool { return len(pubRec.Keys()) == 1 }, wait, 5*time.Millisecond)
	assert.Empty(t, rec.Keys(), "a closed bus delivers nothing")
}

// busGoroutines counts the goroutines running code of pgbus, lib/pq or a
// database/sql pool. (runtime.NumGoroutine also counts the runtime's
// cleanup goroutine while it runs, which makes it flaky here.)
func busGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "jwtauth/adapters/pgbus.") || strings.Contains(g, "github.com/lib/pq.") ||
			strings.Contains(g, "database/sql.") {
			count++
		}
	}
	return count
}

// testLogger logs to t; the Bus stops logging when Close returns.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// proxy forwards TCP connections to a target; Freeze(true) holds back the
// bytes the target sends until Freeze(false).
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, s)
			mu.Unlock()
			conns.Go(func() { _, _ = io.Copy(s, c); _ = s.Close() })
			conns.Go(func() { p.copyFrozen(c, s); _ = c.Close() })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		p.Freeze(false)
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

// Freeze holds back (true) or releases (false) the target's bytes.
func (p *proxy) Freeze(frozen bool) {
	p.mu.Lock()
	p.frozen = frozen
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *proxy) copyFrozen(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.frozen {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
