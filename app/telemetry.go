package app

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// ScopeName is the OpenTelemetry instrumentation scope of the metrics and
// spans the use cases report.
const ScopeName = "github.com/jwtauth/jwtauth"

// Outcomes are the values of the "outcome" attribute: "ok" or the error
// code of the reference HTTP contract. The set is closed, so the
// cardinality of every metric stays bounded.
var Outcomes = outcomeNames[:]

var outcomeNames = [...]string{
	"ok", "invalid_request", "invalid_credentials", "invalid_token", "token_expired",
	"token_revoked", "wrong_token_type", "client_mismatch", "refresh_reused",
	"device_limit_reached", "not_found", "unavailable", "invalid_dpop_proof",
}

// outcomeErrors maps each sentinel to its index in Outcomes. The first
// match decides; ErrUnavailable comes first (fail closed, as the
// transports do).
var outcomeErrors = []struct {
	err error
	i   int
}{
	{domain.ErrUnavailable, 11},
	{domain.ErrMalformed, 3},
	{domain.ErrInvalid, 3},
	{domain.ErrExpired, 4},
	{domain.ErrRevoked, 5},
	{domain.ErrWrongTokenType, 6},
	{domain.ErrClientMismatch, 7},
	{domain.ErrKeyMismatch, 12},
	{domain.ErrRefreshReused, 8},
	{domain.ErrInvalidCredentials, 2},
	{domain.ErrDeviceLimitReached, 9},
	{domain.ErrSessionNotFound, 10},
	{domain.ErrInvalidArgument, 1},
}

// outcomeIndex is err's index in Outcomes; errors matching no sentinel
// are "unavailable".
func outcomeIndex(err error) int {
	if err == nil {
		return 0
	}
	for _, e := range outcomeErrors {
		if errors.Is(err, e.err) {
			return e.i
		}
	}
	return 11
}

// Outcome returns the "outcome" attribute value of err: "ok" for nil, else
// its error code.
func Outcome(err error) string { return Outcomes[outcomeIndex(err)] }

// Revocation kinds, the values of jwtauth.revocations' "kind" attribute.
const (
	kindLogout       = "logout"
	kindLogoutAll    = "logout_all"
	kindLogoutOthers = "logout_others"
	kindSession      = "session"
	kindInvalidate   = "invalidate"
	kindReuse        = "reuse"
	kindEvict        = "evict"
)

// Cache lookup results, the values of jwtauth.cache.lookups' "result".
const (
	cacheHit = iota
	cacheMiss
	cacheBypassed
)

// Store operations, the values of the store metrics' "op" attribute.
const (
	opGeneration = iota
	opSession
	opSessions
	opUpdateUser
	opPrune
	opCount
)

var opNames = [opCount]string{"generation", "session", "sessions", "update_user", "prune"}

// telemetry holds the instruments. Attribute sets are built once, so
// recording allocates nothing.
type telemetry struct {
	tracer trace.Tracer
	// idleGlobal is otel's default global TracerProvider when tracer came
	// from it, else nil. Until an SDK is installed it records nothing and
	// its spans only carry their parent's context, at three allocations
	// each; spans are skipped while it is still the global provider.
	idleGlobal trace.TracerProvider

	// The hot path's counts are atomics, which observable counters read
	// at collection: an SDK counter's Add costs more than an increment.
	authCount    [len(outcomeNames)]atomic.Int64
	cacheCount   [3]atomic.Int64
	authDuration metric.Float64Histogram
	logins       metric.Int64Counter
	refreshes    metric.Int64Counter
	revocations  metric.Int64Counter
	invalidation metric.Int64Counter
	storeTime    metric.Float64Histogram
	storeErrors  metric.Int64Counter

	// Options are kept in slices passed with "...", so that no call
	// allocates its variadic argument.
	outcomeAdd    [][]metric.AddOption
	outcomeRecord [][]metric.RecordOption
	kindAdd       map[string][]metric.AddOption
	opAdd         [opCount][]metric.AddOption
	opRecord      [opCount][]metric.RecordOption
	internal      []trace.SpanStartOption
	client        []trace.SpanStartOption
}

// reconnectCounter is implemented by buses that count their reconnections
// (pgbus).
type reconnectCounter interface{ Reconnects() uint64 }

func newTelemetry(cfg Config, bus ports.Bus) (*telemetry, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	var idle trace.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
		if isDefaultGlobal(tp) {
			idle = tp
		}
	}
	m := mp.Meter(ScopeName)
	t := &telemetry{tracer: tp.Tracer(ScopeName), idleGlobal: idle, kindAdd: map[string][]metric.AddOption{},
		internal: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)},
		client:   []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{"+unitOf(name)+"}"))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string, bounds ...float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(bounds...))
		errs = append(errs, err)
		return h
	}
	errs = append(errs, observeCounts(m, "jwtauth.authenticate.requests", "Access tokens checked, by outcome (ok or the error code).",
		"outcome", outcomeNames[:], t.authCount[:]))
	t.authDuration = seconds("jwtauth.authenticate.duration", "Time to check an access token.",
		0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2.5)
	t.logins = counter("jwtauth.logins", "Logins, by outcome.")
	t.refreshes = counter("jwtauth.refreshes", "Refreshes, by outcome.")
	t.revocations = counter("jwtauth.revocations", "Revocations, by kind.")
	errs = append(errs, observeCounts(m, "jwtauth.cache.lookups", "Generation and session cache lookups: hit, miss, or bypassed (no trusted cache).",
		"result", []string{"hit", "miss", "bypassed"}, t.cacheCount[:]))
	t.invalidation = counter("jwtauth.bus.invalidations", "Invalidations received from the bus (a full flush counts one).")
	t.storeTime = seconds("jwtauth.store.duration", "Time of each store call, by op.",
		0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
	t.storeErrors = counter("jwtauth.store.errors", "Store calls that failed (unavailable), by op.")
	if bus != nil {
		// Callbacks are registered apart from the instruments: a second
		// Service on the same provider gets the first one's instruments
		// back, without the callbacks passed along.
		healthy, err := m.Int64ObservableGauge("jwtauth.bus.healthy",
			metric.WithDescription("1 while the invalidation bus is receiving (caches trusted), else 0."))
		errs = append(errs, err)
		if err == nil {
			_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
				v := int64(0)
				if bus.Healthy() {
					v = 1
				}
				o.ObserveInt64(healthy, v)
				return nil
			}, healthy)
			errs = append(errs, err)
		}
		if rc, ok := bus.(reconnectCounter); ok {
			reconnects, err := m.Int64ObservableCounter("jwtauth.bus.reconnects",
				metric.WithDescription("Times the bus listener reconnected after losing its connection."),
				metric.WithUnit("{reconnect}"))
			errs = append(errs, err)
			if err == nil {
				_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
					o.ObserveInt64(reconnects, int64(rc.Reconnects())) // #nosec G115 -- a count of reconnections
					return nil
				}, reconnects)
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, o := range Outcomes {
		set := attribute.NewSet(attribute.String("outcome", o))
		t.outcomeAdd = append(t.outcomeAdd, []metric.AddOption{metric.WithAttributeSet(set)})
		t.outcomeRecord = append(t.outcomeRecord, []metric.RecordOption{metric.WithAttributeSet(set)})
	}
	for _, k := range []string{kindLogout, kindLogoutAll, kindLogoutOthers, kindSession, kindInvalidate, kindReuse, kindEvict} {
		t.kindAdd[k] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("kind", k)))}
	}
	for i, op := range opNames {
		set := attribute.NewSet(attribute.String("op", op))
		t.opAdd[i] = []metric.AddOption{metric.WithAttributeSet(set)}
		t.opRecord[i] = []metric.RecordOption{metric.WithAttributeSet(set)}
	}
	return t, nil
}

// unitOf is the annotation unit of a counter: its name's last part.
func unitOf(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			return name[i+1:]
		}
	}
	return name
}

// start begins a span of a use case.
func (t *telemetry) start(ctx context.Context, name string) (context.Context, trace.Span) {
	return t.span(ctx, name, t.internal)
}

// span starts a span, unless no tracing is set up: then it returns ctx
// and a no-op span, which is all the default global provider would give
// (it creates non-recording spans carrying the parent's context). Once
// otel.SetTracerProvider installs a provider, spans are started again.
// (otel's eBPF auto-instrumentation, which hooks the default provider,
// sees no spans from here while none is installed.)
func (t *telemetry) span(ctx context.Context, name string, opts []trace.SpanStartOption) (context.Context, trace.Span) {
	if t.idleGlobal != nil && otel.GetTracerProvider() == t.idleGlobal {
		return ctx, noopSpan
	}
	return t.tracer.Start(ctx, name, opts...)
}

var noopSpan = trace.SpanFromContext(context.Background())

// isDefaultGlobal reports whether tp is the global TracerProvider otel
// starts with, before any SetTracerProvider.
func isDefaultGlobal(tp trace.TracerProvider) bool {
	t := reflect.TypeOf(tp)
	return t != nil && t.Kind() == reflect.Pointer &&
		t.Elem().PkgPath() == "go.opentelemetry.io/otel/internal/global" && t.Elem().Name() == "tracerProvider"
}

// end counts a use case's outcome on c and ends its span, marked as an
// error (with the code, never the message) unless err is nil.
func (t *telemetry) end(ctx context.Context, span trace.Span, c metric.Int64Counter, err error) {
	i := outcomeIndex(err)
	c.Add(ctx, 1, t.outcomeAdd[i]...)
	endSpan(span, i)
}

func endSpan(span trace.Span, i int) {
	if i != 0 && span.IsRecording() {
		span.SetAttributes(attribute.String("jwtauth.outcome", Outcomes[i]))
		span.SetStatus(codes.Error, Outcomes[i])
	}
	span.End()
}

func (t *telemetry) revoked(ctx context.Context, kind string, n int) {
	if n > 0 {
		t.revocations.Add(ctx, int64(n), t.kindAdd[kind]...)
	}
}

func (t *telemetry) lookup(result int) { t.cacheCount[result].Add(1) }

// observeCounts registers an observable counter reporting counts[i] with
// attribute key = values[i], for the counts that are not zero.
func observeCounts(m metric.Meter, name, desc, key string, values []string, counts []atomic.Int64) error {
	opts := make([][]metric.ObserveOption, len(values))
	for i, v := range values {
		opts[i] = []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(key, v)))}
	}
	c, err := m.Int64ObservableCounter(name, metric.WithDescription(desc), metric.WithUnit("{"+unitOf(name)+"}"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for i := range counts {
			if n := counts[i].Load(); n != 0 {
				o.ObserveInt64(c, n, opts[i]...)
			}
		}
		return nil
	}, c)
	return err
}

// Login issues an access and refresh token pair for a user whose
// credentials the application has checked. In one transaction locked per
// user it applies the device policy, replaces this device's previous
// session, and creates the new session. It is traced as jwtauth.Login and
// counted in jwtauth.logins.
func (s *Service[U]) Login(ctx context.Context, userID string, user U, client domain.ClientInfo) (Pair, error) {
	ctx, span := s.tel.start(ctx, "jwtauth.Login")
	pair, err := s.login(ctx, userID, user, client)
	s.tel.end(ctx, span, s.tel.logins, err)
	return pair, err
}

// Authenticate checks an access token presented by client and returns its
// principal: decrypt, verify, type, IP binding, device binding, current
// generation, active session. It is traced as jwtauth.Authenticate,
// counted in jwtauth.authenticate.requests and timed in
// jwtauth.authenticate.duration.
func (s *Service[U]) Authenticate(ctx context.Context, raw string, client domain.ClientInfo) (Principal[U], error) {
	ctx, span := s.tel.start(ctx, "jwtauth.Authenticate")
	timed := s.tel.authDuration.Enabled(ctx)
	var start time.Time
	if timed {
		start = time.Now()
	}
	p, err := s.authenticate(ctx, raw, client)
	i := outcomeIndex(err)
	if timed {
		s.tel.authDuration.Record(ctx, time.Since(start).Seconds(), s.tel.outcomeRecord[i]...)
	}
	s.tel.authCount[i].Add(1)
	endSpan(span, i)
	return p, err
}

// Refresh exchanges a refresh token for a new access token, and with
// rotation on a new refresh token too. Presenting a rotated-out refresh
// token after the grace interval revokes its session and returns
// domain.ErrRefreshReused. It is traced as jwtauth.Refresh and counted in
// jwtauth.refreshes.
func (s *Service[U]) Refresh(ctx context.Context, raw string, client domain.ClientInfo) (Pair, error) {
	ctx, span := s.tel.start(ctx, "jwtauth.Refresh")
	pair, err := s.refresh(ctx, raw, client)
	s.tel.end(ctx, span, s.tel.refreshes, err)
	return pair, err
}

// tracedStore is the Store as the use cases see it: every call is a span
// (jwtauth.store.<op>) under the use case's, timed in jwtauth.store.duration
// and, when the store cannot answer, counted in jwtauth.store.errors.
type tracedStore struct {
	ports.Store
	tel *telemetry
}

var spanNames = [opCount]string{"jwtauth.store.Generation", "jwtauth.store.Session",
	"jwtauth.store.Sessions", "jwtauth.store.UpdateUser", "jwtauth.store.Prune"}

func (s tracedStore) begin(ctx context.Context, op int) (context.Context, trace.Span, time.Time) {
	ctx, span := s.tel.span(ctx, spanNames[op], s.tel.client)
	return ctx, span, time.Now()
}

func (s tracedStore) finish(ctx context.Context, op int, span trace.Span, start time.Time, err error) {
	s.tel.storeTime.Record(ctx, time.Since(start).Seconds(), s.tel.opRecord[op]...)
	i := outcomeIndex(err)
	if i == 11 { // unavailable: the store failed, not the caller
		s.tel.storeErrors.Add(ctx, 1, s.tel.opAdd[op]...)
	}
	endSpan(span, i)
}

func (s tracedStore) Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
	ctx, span, start := s.begin(ctx, opGeneration)
	gen, err := s.Store.Generation(ctx, userID, typ)
	s.finish(ctx, opGeneration, span, start, err)
	return gen, err
}

func (s tracedStore) Session(ctx context.Context, sessionID string) (domain.Session, error) {
	ctx, span, start := s.begin(ctx, opSession)
	sess, err := s.Store.Session(ctx, sessionID)
	s.finish(ctx, opSession, span, start, err)
	return sess, err
}

func (s tracedStore) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	ctx, span, start := s.begin(ctx, opSessions)
	all, err := s.Store.Sessions(ctx, userID)
	s.finish(ctx, opSessions, span, start, err)
	return all, err
}

func (s tracedStore) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	ctx, span, start := s.begin(ctx, opUpdateUser)
	err := s.Store.UpdateUser(ctx, userID, fn)
	s.finish(ctx, opUpdateUser, span, start, err)
	return err
}

func (s tracedStore) Prune(ctx context.Context, before, idleBefore time.Time) (int64, error) {
	ctx, span, start := s.begin(ctx, opPrune)
	n, err := s.Store.Prune(ctx, before, idleBefore)
	s.finish(ctx, opPrune, span, start, err)
	return n, err
}

// countingCache counts hits and misses of the cache's reads.
type countingCache struct {
	ports.Cache
	tel *telemetry
}

func (c countingCache) Get(key string) ([]byte, bool) {
	v, ok := c.Cache.Get(key)
	if ok {
		c.tel.lookup(cacheHit)
	} else {
		c.tel.lookup(cacheMiss)
	}
	return v, ok
}

// countEvicted counts the sessions a login's device policy ended, beside the
// one of the logging-in device it replaces.
func countEvicted(sessions []domain.Session, revoke []string, deviceID string) int {
	n := 0
	for _, id := range revoke {
		if i := indexSession(sessions, id); i >= 0 && sessions[i].DeviceID != deviceID {
			n++
		}
	}
	return n
}

// instrument wraps the store (spans, durations, errors) and the cache (hit
// and miss counts).
func (s *Service[U]) instrument() {
	s.deps.Store = tracedStore{Store: s.deps.Store, tel: s.tel}
	if s.deps.Cache != nil {
		s.deps.Cache = countingCache{Cache: s.deps.Cache, tel: s.tel}
	}
}

// LogoutSession ends the user's session sessionID, like Logout, for a
// caller that already knows the session's user (an authenticated
// principal): no lookup. It differs from RevokeSession only in how it is
// counted (jwtauth.revocations kind "logout", not "session").
func (s *Service[U]) LogoutSession(ctx context.Context, userID, sessionID string) error {
	return s.revokeSession(ctx, kindLogout, userID, sessionID)
}
