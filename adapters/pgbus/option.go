package pgbus

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jwtauth/jwtauth/domain"
)

// Defaults of the options.
const (
	// DefaultChannel is the NOTIFY channel, the same as the PostgreSQL
	// store's default.
	DefaultChannel = "jwtauth_invalidate"
	// DefaultMinReconnect and DefaultMaxReconnect bound the wait between
	// reconnection attempts; it doubles after each failed attempt.
	DefaultMinReconnect = 100 * time.Millisecond
	DefaultMaxReconnect = 5 * time.Second
	// DefaultPingInterval is how often the listening connection is
	// checked.
	DefaultPingInterval = 30 * time.Second
	// DefaultHeartbeat is how often the Bus proves, by a NOTIFY it must
	// receive back, that it is still being delivered to.
	DefaultHeartbeat = 250 * time.Millisecond
	// DefaultSyncTimeout bounds Sync.
	DefaultSyncTimeout = 2 * time.Second
)

// maxChannelLen is PostgreSQL's identifier limit (NAMEDATALEN - 1).
const maxChannelLen = 63

// Option configures a Bus.
type Option func(*options)

type options struct {
	channel                    string
	logger                     *slog.Logger
	db                         *sql.DB
	minReconnect, maxReconnect time.Duration
	pingInterval               time.Duration
	heartbeat, syncTimeout     time.Duration
}

// WithChannel sets the NOTIFY channel to listen and publish on. It must
// match the store's channel. Optional. Default DefaultChannel.
func WithChannel(name string) Option {
	return func(o *options) { o.channel = name }
}

// WithLogger sets where connection losses and recoveries are logged.
// Optional. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithDB makes Publish send through db, which Close leaves open.
// Optional. Default: a pool opened on the Bus's DSN, closed by Close.
func WithDB(db *sql.DB) Option {
	return func(o *options) { o.db = db }
}

// WithReconnectInterval sets the first and the longest wait between
// attempts to reconnect the listener; the wait doubles after each failed
// attempt. Close may wait for up to max. Optional. Default
// DefaultMinReconnect and DefaultMaxReconnect.
func WithReconnectInterval(minWait, maxWait time.Duration) Option {
	return func(o *options) { o.minReconnect, o.maxReconnect = minWait, maxWait }
}

// WithPingInterval sets how often the listening connection is pinged to
// detect a connection that died without being closed. A ping that fails,
// or takes longer than the interval (at least 1s, at most 10s), makes the
// Bus unhealthy until a ping succeeds again. Optional. Default
// DefaultPingInterval.
func WithPingInterval(d time.Duration) Option {
	return func(o *options) { o.pingInterval = d }
}

// WithHeartbeat sets how often the Bus sends itself a heartbeat (one
// small NOTIFY through the publishing pool) that its listener must
// receive back. Healthy is false whenever the last heartbeat that came
// back was sent 2 × d ago or longer, so a listener that stalls, or a
// database that stops delivering, is noticed within 2 × d; when the
// heartbeats come back the subscribers are flushed first. Other
// instances' heartbeats are ignored, never delivered. Optional. Default
// DefaultHeartbeat. 0 turns heartbeats off (Healthy then relies on the
// connection events and the pings).
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) { o.heartbeat = d }
}

// WithSyncTimeout bounds Sync. Optional. Default DefaultSyncTimeout.
func WithSyncTimeout(d time.Duration) Option {
	return func(o *options) { o.syncTimeout = d }
}

// validate returns an error wrapping domain.ErrInvalidArgument naming the
// first invalid option.
func (o *options) validate() error {
	switch {
	case o.channel == "" || len(o.channel) > maxChannelLen:
		return fmt.Errorf("%w: pgbus: channel must be 1 to %d bytes", domain.ErrInvalidArgument, maxChannelLen)
	case o.minReconnect <= 0 || o.maxReconnect < o.minReconnect:
		return fmt.Errorf("%w: pgbus: reconnect interval %v..%v", domain.ErrInvalidArgument, o.minReconnect, o.maxReconnect)
	case o.pingInterval <= 0:
		return fmt.Errorf("%w: pgbus: ping interval %v", domain.ErrInvalidArgument, o.pingInterval)
	case o.heartbeat < 0:
		return fmt.Errorf("%w: pgbus: heartbeat %v", domain.ErrInvalidArgument, o.heartbeat)
	case o.syncTimeout <= 0:
		return fmt.Errorf("%w: pgbus: sync timeout %v", domain.ErrInvalidArgument, o.syncTimeout)
	}
	return nil
}

// pingTimeout is how long a ping may take before the connection is
// considered stalled.
func (o *options) pingTimeout() time.Duration {
	return min(max(o.pingInterval, time.Second), 10*time.Second)
}
