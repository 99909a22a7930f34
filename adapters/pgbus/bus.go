package pgbus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/jwtauth/jwtauth/adapters/internal/notify"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var (
	_ ports.Bus       = (*Bus)(nil)
	_ ports.Publisher = (*Bus)(nil)
	_ ports.Syncer    = (*Bus)(nil)
)

// MaxPayload is the largest NOTIFY payload Publish sends; PostgreSQL
// refuses 8000 bytes or more. Longer lists of keys go out as several
// notifications.
const MaxPayload = notify.MaxPayload

// ErrClosed is returned (wrapped in domain.ErrUnavailable) by Publish and
// WaitHealthy once the Bus is closed.
var ErrClosed = errors.New("pgbus: closed")

var errPingTimeout = errors.New("ping timed out")

const notifySQL = `SELECT pg_notify($1, $2)`

// Bus is a ports.Bus and ports.Publisher on PostgreSQL LISTEN/NOTIFY. It
// is safe for concurrent use.
//
// It owns a pq.Listener, a goroutine that calls the subscribers (one at a
// time, in the order notifications arrive) and a goroutine that pings the
// listening connection. Healthy is true only while the Bus is certainly
// listening; see the package documentation.
type Bus struct {
	channel      string
	log          *slog.Logger
	db           *sql.DB
	ownDB        bool
	listener     *pq.Listener
	minReconnect time.Duration
	pingInterval time.Duration
	pingTimeout  time.Duration
	beats        *heartbeats

	healthy    atomic.Bool
	isClosed   atomic.Bool
	reconnects atomic.Uint64

	subsMu sync.RWMutex
	subs   []func(keys []string)

	mu sync.Mutex // guards the fields below
	// listening: LISTEN was confirmed on a live connection; the listener
	// re-issues it on every reconnection.
	listening bool
	// connected: per the listener's last event.
	connected bool
	// pingOK: the last ping of this connection succeeded in time.
	pingOK bool
	// pending counts reconnections whose flush (the nil notification
	// that follows each) the subscribers have not had yet.
	pending int
	closed  bool
	// conn changes with every connection event, so that a ping's late
	// answer is not applied to a newer connection.
	conn uint64
	// flushDue: the subscribers must be told to flush (connection lost,
	// ping failed).
	flushDue bool
	// changed is closed, and replaced, whenever Healthy changes.
	changed chan struct{}

	wake      chan struct{} // capacity 1: "look at flushDue"
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New returns a Bus listening on dsn's database. It does not wait for the
// connection: the Bus is unhealthy until its LISTEN is confirmed (see
// WaitHealthy), and keeps reconnecting for as long as it is open. It
// returns an error wrapping domain.ErrInvalidArgument when dsn or an
// option is invalid. Call Close to release it.
func New(dsn string, opts ...Option) (*Bus, error) {
	o := options{
		channel:      DefaultChannel,
		minReconnect: DefaultMinReconnect,
		maxReconnect: DefaultMaxReconnect,
		pingInterval: DefaultPingInterval,
		heartbeat:    DefaultHeartbeat,
		syncTimeout:  DefaultSyncTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	// The parser's message may quote the DSN, password included, so it
	// is not passed on.
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: pgbus: the connection string does not parse", domain.ErrInvalidArgument)
	}
	b := &Bus{
		channel:      o.channel,
		log:          o.logger.With("channel", o.channel),
		db:           o.db,
		minReconnect: o.minReconnect,
		pingInterval: o.pingInterval,
		pingTimeout:  o.pingTimeout(),
		beats:        newHeartbeats(o.heartbeat, o.syncTimeout),
		changed:      make(chan struct{}),
		wake:         make(chan struct{}, 1),
		done:         make(chan struct{}),
	}
	if b.db == nil {
		b.db, b.ownDB = sql.OpenDB(connector), true
	}
	b.listener = pq.NewListener(dsn, o.minReconnect, o.maxReconnect, b.onEvent)
	b.wg.Add(3)
	go b.dispatch()
	go b.listen()
	go b.pingLoop()
	if o.heartbeat > 0 {
		b.wg.Go(b.beatLoop)
	}
	return b, nil
}

// Subscribe implements ports.Bus. Subscribers are called one at a time
// from the Bus's goroutine, in the order notifications arrive, with the
// keys of a notification, or with nil after the connection was lost or a
// ping failed: everything must go. A slow subscriber delays the others.
func (b *Bus) Subscribe(fn func(keys []string)) {
	if fn == nil {
		return
	}
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	b.subs = append(b.subs, fn)
}

// Healthy implements ports.Bus: it reports whether the Bus is certainly
// listening, so that no invalidation can have been missed since the last
// flush.
func (b *Bus) Healthy() bool { return b.healthy.Load() && b.beats.fresh(time.Now()) }

// Reconnects counts the listener's reconnections (jwtauth.bus.reconnects).
func (b *Bus) Reconnects() uint64 { return b.reconnects.Load() }

// WaitHealthy blocks until the Bus is healthy, ctx is done (returning
// ctx.Err()) or the Bus is closed (returning an error wrapping ErrClosed).
func (b *Bus) WaitHealthy(ctx context.Context) error {
	for {
		b.mu.Lock()
		closed, changed := b.closed, b.changed
		b.mu.Unlock()
		switch {
		case closed:
			return fmt.Errorf("%w: %w", domain.ErrUnavailable, ErrClosed)
		case b.Healthy():
			return nil
		}
		select {
		case <-changed:
		case <-b.beats.echoed():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Publish implements ports.Publisher: it sends keys to every Bus on the
// channel, joined by "\n" into as few notifications as fit MaxPayload,
// in one transaction when there are several. Publishing no keys does
// nothing. It returns an error wrapping domain.ErrInvalidArgument for a
// key that is empty, longer than MaxPayload, not UTF-8, contains "\n"
// or NUL, or starts with "pgbus-" (reserved for the Buses' heartbeats), and one wrapping domain.ErrUnavailable when the database does
// not take the notifications or the Bus is closed.
func (b *Bus) Publish(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	payloads, err := notify.Payloads(keys)
	if err != nil {
		return fmt.Errorf("pgbus: %w", err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, controlPrefix) {
			return fmt.Errorf("%w: pgbus: key %q: the prefix %q is reserved", domain.ErrInvalidArgument, k, controlPrefix)
		}
	}
	if b.isClosed.Load() {
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, ErrClosed)
	}
	if len(payloads) == 1 {
		_, err = b.db.ExecContext(ctx, notifySQL, b.channel, payloads[0])
	} else {
		err = b.publishTx(ctx, payloads)
	}
	if err != nil {
		return fmt.Errorf("%w: pgbus: publish: %w", domain.ErrUnavailable, err)
	}
	return nil
}

func (b *Bus) publishTx(ctx context.Context, payloads []string) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, p := range payloads {
		if _, err := tx.ExecContext(ctx, notifySQL, b.channel, p); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Close stops listening, waits for the Bus's goroutines to end and closes
// the database pool it opened. It can take up to the longest reconnect
// interval when a reconnection is under way, and as long as the operating
// system takes to give up a dead TCP connection when a ping is in flight
// on one. Subscribers are not
// called once Close has begun. Close is idempotent: later calls return
// the first call's result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.isClosed.Store(true)
		b.setState(func() { b.closed = true })
		close(b.done)
		err := b.listener.Close()
		b.wg.Wait()
		if b.ownDB {
			err = errors.Join(err, b.db.Close())
		}
		b.closeErr = err
	})
	return b.closeErr
}

// onEvent is the pq.Listener's event callback. It runs on the listener's
// goroutine and must not block.
func (b *Bus) onEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventConnected:
		b.setState(func() { b.conn++; b.connected, b.pingOK = true, true })
	case pq.ListenerEventReconnected:
		b.reconnects.Add(1)
		// The listener sends a nil notification next; dispatch flushes
		// the subscribers when it gets there, after every notification of
		// the previous connection.
		b.setState(func() { b.conn++; b.connected, b.pingOK = true, true; b.pending++ })
	case pq.ListenerEventDisconnected:
		b.log.Warn("pgbus: listener connection lost; caches flushed and bypassed until it is back", "err", err)
		b.setState(func() { b.conn++; b.connected, b.pingOK = false, false; b.flushDue = true })
	case pq.ListenerEventConnectionAttemptFailed:
		b.log.Debug("pgbus: listener connection attempt failed", "err", err)
		b.setState(func() { b.connected = false })
	}
}

// setState applies fn under b.mu, then recomputes Healthy and wakes
// dispatch when a flush is due.
func (b *Bus) setState(fn func()) {
	b.mu.Lock()
	fn()
	healthy := !b.closed && b.listening && b.connected && b.pingOK && b.pending == 0
	changed := b.healthy.Swap(healthy) != healthy
	if changed {
		close(b.changed)
		b.changed = make(chan struct{})
	}
	if b.flushDue {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
	if changed && healthy {
		b.log.Info("pgbus: listening")
	}
}

// dispatch calls the subscribers. It ends when the listener's
// notification channel closes, after Close.
func (b *Bus) dispatch() {
	defer b.wg.Done()
	notifications := b.listener.NotificationChannel()
	for {
		select {
		case n, ok := <-notifications:
			if !ok {
				return
			}
			// A due flush goes first: it was decided before this
			// notification was received.
			b.flushIfDue()
			b.handle(n)
		case <-b.wake:
			b.flushIfDue()
		}
	}
}

func (b *Bus) flushIfDue() {
	b.mu.Lock()
	due := b.flushDue
	b.flushDue = false
	b.mu.Unlock()
	if due {
		b.deliver(nil)
	}
}

func (b *Bus) handle(n *pq.Notification) {
	switch {
	case n == nil:
		// After a reconnection: notifications may have been missed.
		// Flush first, then count the reconnection as handled.
		b.deliver(nil)
		b.setState(func() { b.pending = max(b.pending-1, 0) })
	case n.Channel != b.channel || n.Extra == "":
	case strings.HasPrefix(n.Extra, controlPrefix):
		b.control(n.Extra)
	default:
		b.deliver(notify.Split(n.Extra))
	}
}

func (b *Bus) deliver(keys []string) {
	if b.isClosed.Load() {
		return
	}
	b.subsMu.RLock()
	subs := b.subs
	b.subsMu.RUnlock()
	for _, fn := range subs {
		fn(keys)
	}
}

// listen issues LISTEN, then confirms with a ping that the connection it
// went out on is alive: a LISTEN sent on a connection that was breaking
// returns no error, and only the next connection repeats it.
func (b *Bus) listen() {
	defer b.wg.Done()
	if err := b.listener.Listen(b.channel); err != nil {
		if !b.isClosed.Load() {
			b.log.Error("pgbus: LISTEN failed; the bus stays unhealthy", "err", err)
		}
		return
	}
	wait := b.minReconnect
	for {
		if b.listener.Ping() == nil {
			b.setState(func() { b.listening = true })
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-b.done:
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, b.pingInterval)
	}
}

// pingLoop pings the listening connection every pingInterval, and more
// often (from minReconnect, doubling) after a failure.
func (b *Bus) pingLoop() {
	defer b.wg.Done()
	wait := b.pingInterval
	for {
		t := time.NewTimer(wait)
		select {
		case <-b.done:
			t.Stop()
			return
		case <-t.C:
		}
		ok, stop := b.ping()
		switch {
		case stop:
			return
		case ok:
			wait = b.pingInterval
		case wait == b.pingInterval:
			wait = b.minReconnect
		default:
			wait = min(2*wait, b.pingInterval)
		}
	}
}

// ping pings the listener once. A ping that takes longer than
// pingTimeout counts as failed until it answers. stop reports that the
// Bus was closed meanwhile.
func (b *Bus) ping() (ok, stop bool) {
	b.mu.Lock()
	conn := b.conn
	b.mu.Unlock()
	res := make(chan error, 1)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		res <- b.listener.Ping()
	}()
	// A ping that may have waited for the listener's lock while a
	// connection was being made goes out on that newer connection, and
	// pq's Ping holds the lock on the wire: the connection a ping hangs
	// on is the current one. So every pingTimeout it stays unanswered
	// condemns the current connection. (Judged only against the
	// connection it started on, the timeout would be ignored, this loop
	// would ping no more, and a stalled connection would stay healthy.)
	timeout := time.NewTicker(b.pingTimeout)
	defer timeout.Stop()
	for {
		select {
		case err := <-res:
			return b.pinged(conn, err), false
		case <-timeout.C:
			b.mu.Lock()
			conn = b.conn
			b.mu.Unlock()
			b.pinged(conn, errPingTimeout)
		case <-b.done:
			return false, true
		}
	}
}

// pinged records the outcome of a ping on connection conn.
func (b *Bus) pinged(conn uint64, err error) bool {
	var lost bool
	b.setState(func() {
		if b.conn != conn {
			return // a connection event came meanwhile and decided
		}
		switch {
		case err == nil:
			b.pingOK = true
		case b.pingOK:
			b.pingOK, b.flushDue, lost = false, true, true
		}
	})
	if lost && !b.isClosed.Load() {
		b.log.Warn("pgbus: listener ping failed; caches flushed and bypassed until it answers", "err", err)
	}
	return err == nil
}

// control handles a payload the Buses send each other. Ours prove this
// Bus alive; coming back after a gap, everything is flushed first, since
// what was published during the gap may have been lost. Another Bus's
// sync is acknowledged once everything received before it has been
// delivered here (dispatch delivers in order).
func (b *Bus) control(payload string) {
	c, ok := parseControl(payload)
	if !ok {
		return
	}
	now := time.Now()
	b.beats.heard(c, now)
	switch {
	case b.beats.ours(c):
		if b.beats.gap(now) && !b.isClosed.Load() {
			b.log.Warn("pgbus: heartbeats are back after a gap; caches flushed")
			b.deliver(nil)
		}
		b.beats.confirm(c.seq)
	case c.kind == kindSync && !b.isClosed.Load():
		ack := controlPrefix + kindAck + ":" + c.from + ":" + strconv.FormatUint(c.seq, 10) + ":" + b.beats.id
		b.wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), b.beats.syncTimeout)
			defer cancel()
			_, _ = b.db.ExecContext(ctx, notifySQL, b.channel, ack)
		})
	}
}

// beatLoop sends a heartbeat every interval until Close.
func (b *Bus) beatLoop() {
	t := time.NewTicker(b.beats.interval)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*b.beats.interval)
		_, _ = b.send(ctx, kindBeat)
		cancel()
	}
}

// send sends one heartbeat or sync and returns its sequence number.
func (b *Bus) send(ctx context.Context, kind string) (uint64, error) {
	seq, payload := b.beats.next(kind, time.Now())
	if b.isClosed.Load() {
		return seq, fmt.Errorf("%w: %w", domain.ErrUnavailable, ErrClosed)
	}
	if _, err := b.db.ExecContext(ctx, notifySQL, b.channel, payload); err != nil {
		return seq, fmt.Errorf("%w: pgbus: %s: %w", domain.ErrUnavailable, kind, err)
	}
	return seq, nil
}

// Sync implements ports.Syncer. It sends a sync marker and returns once
// the marker came back on this Bus's listener and every other Bus heard
// of within twice the heartbeat interval has acknowledged it, or twice
// the interval has passed. PostgreSQL delivers notifications in commit
// order and each Bus delivers them to its subscribers in order before it
// acknowledges, so by then every invalidation committed before Sync was
// called has been applied on every other instance, or that instance is
// bypassing its cache (it has not received its own heartbeats for twice
// the interval). It waits at most the
// sync timeout (WithSyncTimeout) and returns an error wrapping
// domain.ErrUnavailable when that is not confirmed in time, or ctx ends.
// Without heartbeats (WithHeartbeat(0)) no other Bus is known, and Sync
// waits for its own marker only.
func (b *Bus) Sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.beats.syncTimeout)
	defer cancel()
	seq, err := b.send(ctx, kindSync)
	defer b.beats.done(seq)
	if err != nil {
		return err
	}
	for {
		ok, changed := b.beats.synced(seq, time.Now())
		if ok {
			return nil
		}
		// Peers that do not acknowledge are excused after a while:
		// re-check often.
		recheck := time.NewTimer(max(b.beats.interval/4, 10*time.Millisecond))
		select {
		case <-changed:
		case <-recheck.C:
		case <-b.done:
			recheck.Stop()
			return fmt.Errorf("%w: %w", domain.ErrUnavailable, ErrClosed)
		case <-ctx.Done():
			recheck.Stop()
			return fmt.Errorf("%w: pgbus: sync not confirmed: %w", domain.ErrUnavailable, ctx.Err())
		}
		recheck.Stop()
	}
}
