package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// metrics reads a ManualReader into "name{k=v,...}" -> value (counters and
// gauges; histograms give their count).
func metrics(t *testing.T, r *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, app.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			default:
				t.Fatalf("unexpected data type %T of %s", m.Data, m.Name)
			}
		}
	}
	return out
}

// instrumented returns a fixture whose service reports to a manual reader
// and a span recorder.
func instrumented(t *testing.T, mutate func(*app.Config)) (*fixture, *sdkmetric.ManualReader, *tracetest.SpanRecorder) {
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	f := newFixture(t, func(c *app.Config) {
		c.RotateRefresh = true
		c.ReuseGrace = -1
		c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
		if mutate != nil {
			mutate(c)
		}
	})
	return f, reader, spans
}

func TestTelemetryCountsEachOutcome(t *testing.T) {
	f, reader, _ := instrumented(t, nil)
	ctx := context.Background()

	pair := f.login(t, "alice", alice)                         // login ok; update_user
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice) // ok: 2 misses, 2 store reads
	require.NoError(t, err)
	_, err = f.svc.Authenticate(ctx, pair.AccessToken, alice) // ok: 2 hits
	require.NoError(t, err)
	_, err = f.svc.Authenticate(ctx, "garbage", alice) // invalid_token, no lookup
	require.ErrorIs(t, err, domain.ErrMalformed)
	_, err = f.svc.Authenticate(ctx, pair.RefreshToken, alice) // wrong_token_type
	require.ErrorIs(t, err, domain.ErrWrongTokenType)
	next, err := f.svc.Refresh(ctx, pair.RefreshToken, alice) // refresh ok: gen miss+read, update_user
	require.NoError(t, err)
	f.clock.Add(time.Second)
	_, err = f.svc.Refresh(ctx, pair.RefreshToken, alice) // reused: gen hit, session revoked
	require.ErrorIs(t, err, domain.ErrRefreshReused)
	_, err = f.svc.Authenticate(ctx, next.AccessToken, alice) // token_revoked: gen hit, session miss+read
	require.ErrorIs(t, err, domain.ErrRevoked)
	_, err = f.svc.Login(ctx, "", User{}, alice) // invalid_request
	require.ErrorIs(t, err, domain.ErrInvalidArgument)
	other := f.login(t, "bob", alice)                               // second login ok
	require.NoError(t, f.svc.Logout(ctx, other.SessionID))          // session read, update_user
	require.NoError(t, f.svc.LogoutAll(ctx, "alice"))               // update_user
	require.NoError(t, f.svc.Invalidate(ctx, "bob", domain.Access)) // update_user

	got := metrics(t, reader)
	want := map[string]float64{
		"jwtauth.authenticate.requests{outcome=ok}":               2,
		"jwtauth.authenticate.requests{outcome=invalid_token}":    1,
		"jwtauth.authenticate.requests{outcome=wrong_token_type}": 1,
		"jwtauth.authenticate.requests{outcome=token_revoked}":    1,
		"jwtauth.authenticate.duration{outcome=ok}":               2,
		"jwtauth.authenticate.duration{outcome=invalid_token}":    1,
		"jwtauth.authenticate.duration{outcome=wrong_token_type}": 1,
		"jwtauth.authenticate.duration{outcome=token_revoked}":    1,
		"jwtauth.logins{outcome=ok}":                              2,
		"jwtauth.logins{outcome=invalid_request}":                 1,
		"jwtauth.refreshes{outcome=ok}":                           1,
		"jwtauth.refreshes{outcome=refresh_reused}":               1,
		"jwtauth.revocations{kind=reuse}":                         1,
		"jwtauth.revocations{kind=logout}":                        1,
		"jwtauth.revocations{kind=logout_all}":                    1,
		"jwtauth.revocations{kind=invalidate}":                    1,
		"jwtauth.cache.lookups{result=miss}":                      4,
		"jwtauth.cache.lookups{result=hit}":                       4,
		"jwtauth.store.duration{op=update_user}":                  7,
		"jwtauth.store.duration{op=generation}":                   2,
		"jwtauth.store.duration{op=session}":                      3,
		"jwtauth.bus.healthy{}":                                   1,
		// The memory store publishes every committed change: 2 logins,
		// the refresh, the reuse, the logout, logout-all, invalidate.
		"jwtauth.bus.invalidations{}": 7,
	}
	assert.Equal(t, want, got)
}

// downBus is a bus that is not receiving.
type downBus struct{ healthy atomic.Bool }

func (b *downBus) Subscribe(func([]string)) {}
func (b *downBus) Healthy() bool            { return b.healthy.Load() }

func TestTelemetryBypassedCacheAndBusHealth(t *testing.T) {
	bus := &downBus{}
	f := newFixture(t, nil)
	reader := sdkmetric.NewManualReader()
	cfg := f.cfg
	cfg.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	deps := f.deps
	deps.Bus = bus
	svc, err := app.New(cfg, deps)
	require.NoError(t, err)
	pair, err := svc.Login(context.Background(), "alice", f.users["alice"], alice)
	require.NoError(t, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, alice)
	require.NoError(t, err)
	got := metrics(t, reader)
	assert.Equal(t, 2.0, got["jwtauth.cache.lookups{result=bypassed}"])
	assert.Equal(t, 0.0, got["jwtauth.bus.healthy{}"])
	assert.Contains(t, got, "jwtauth.bus.healthy{}")
	bus.healthy.Store(true)
	assert.Equal(t, 1.0, metrics(t, reader)["jwtauth.bus.healthy{}"])
}

// unavailableStore fails every call as unavailable.
type unavailableStore struct{ *countingStore }

var errDown = errors.New("connection refused")

func (unavailableStore) Generation(context.Context, string, domain.TokenType) (string, error) {
	return "", errors.Join(domain.ErrUnavailable, errDown)
}

func TestTelemetryStoreErrors(t *testing.T) {
	f, reader, spans := instrumented(t, func(c *app.Config) { c.UserFromToken = true })
	pair := f.login(t, "alice", alice)
	deps := f.deps
	deps.Store = unavailableStore{f.store}
	deps.Cache = nil
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, alice)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	got := metrics(t, reader)
	assert.Equal(t, 1.0, got["jwtauth.store.errors{op=generation}"])
	assert.Equal(t, 1.0, got["jwtauth.authenticate.requests{outcome=unavailable}"], "%v", got)
	ended := spans.Ended()
	last := ended[len(ended)-1]
	assert.Equal(t, "jwtauth.Authenticate", last.Name())
	assert.Equal(t, codes.Error, last.Status().Code)
	assert.Equal(t, "unavailable", last.Status().Description, "the code, never the error text")
}

func TestTelemetryLoginSpanTree(t *testing.T) {
	f, _, spans := instrumented(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)

	ended := spans.Ended()
	require.Len(t, ended, 5)
	login, update := ended[1], ended[0]
	assert.Equal(t, "jwtauth.Login", login.Name())
	assert.False(t, login.Parent().IsValid(), "Login is a root span here")
	assert.Equal(t, "jwtauth.store.UpdateUser", update.Name())
	assert.Equal(t, login.SpanContext().SpanID(), update.Parent().SpanID())
	assert.Equal(t, login.SpanContext().TraceID(), update.SpanContext().TraceID())
	assert.Equal(t, codes.Unset, login.Status().Code)

	auth := ended[4]
	assert.Equal(t, "jwtauth.Authenticate", auth.Name())
	assert.Equal(t, "jwtauth.store.Generation", ended[2].Name())
	assert.Equal(t, "jwtauth.store.Session", ended[3].Name())
	for _, child := range ended[2:4] {
		assert.Equal(t, auth.SpanContext().SpanID(), child.Parent().SpanID())
	}
	// No span carries a user id, a session id or a token.
	for _, s := range ended {
		for _, a := range s.Attributes() {
			v := a.Value.String()
			assert.NotContains(t, []string{"alice", pair.SessionID, pair.AccessToken}, v)
		}
	}
}

// TestTelemetryOutcomesClosed checks that every sentinel maps to one of
// Outcomes, and anything else to "unavailable".
func TestTelemetryOutcomesClosed(t *testing.T) {
	for _, err := range []error{
		domain.ErrMalformed, domain.ErrInvalid, domain.ErrExpired, domain.ErrRevoked,
		domain.ErrWrongTokenType, domain.ErrClientMismatch, domain.ErrDeviceLimitReached,
		domain.ErrRefreshReused, domain.ErrSessionNotFound, domain.ErrInvalidCredentials,
		domain.ErrInvalidArgument, domain.ErrUnavailable, errDown,
	} {
		assert.Contains(t, app.Outcomes, app.Outcome(err), "%v", err)
	}
	assert.Equal(t, "ok", app.Outcome(nil))
	assert.Equal(t, "unavailable", app.Outcome(errDown))
	assert.Equal(t, "unavailable", app.Outcome(errors.Join(domain.ErrRevoked, domain.ErrUnavailable)))
	assert.Equal(t, "token_revoked", app.Outcome(domain.ErrRevoked))
}

func TestTelemetryEvictions(t *testing.T) {
	f, reader, _ := instrumented(t, func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 1} })
	f.login(t, "alice", alice)
	f.login(t, "alice", alice) // the same device replaces its session: no eviction
	phone := alice
	phone.DeviceID = "phone"
	f.login(t, "alice", phone) // evicts the laptop
	got := metrics(t, reader)
	assert.Equal(t, 1.0, got["jwtauth.revocations{kind=evict}"])
	assert.Equal(t, 3.0, got["jwtauth.logins{outcome=ok}"])
}

func TestTelemetryConcurrentCounts(t *testing.T) {
	f, reader, _ := instrumented(t, nil)
	pair := f.login(t, "alice", alice)
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			token := pair.AccessToken
			if i%2 == 1 {
				token = "garbage"
			}
			_, _ = f.svc.Authenticate(context.Background(), token, alice)
		})
	}
	wg.Wait()
	got := metrics(t, reader)
	assert.Equal(t, float64(n/2), got["jwtauth.authenticate.requests{outcome=ok}"])
	assert.Equal(t, float64(n/2), got["jwtauth.authenticate.requests{outcome=invalid_token}"])
	assert.Equal(t, float64(n), got["jwtauth.cache.lookups{result=hit}"]+got["jwtauth.cache.lookups{result=miss}"])
}

// TestTelemetryGlobalProviderSetLater checks the default: a Service built
// before the application sets otel's global providers reports to them
// once they are set.
func TestTelemetryGlobalProviderSetLater(t *testing.T) {
	f := newFixture(t, nil) // no providers: the global ones
	pair := f.login(t, "alice", alice)

	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	prevT, prevM := otel.GetTracerProvider(), otel.GetMeterProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() {
		otel.SetTracerProvider(prevT)
		otel.SetMeterProvider(prevM)
	})

	before := metrics(t, reader) // counts of every Service of this process so far
	_, err := f.svc.Authenticate(context.Background(), pair.AccessToken, alice)
	require.NoError(t, err)
	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	assert.Contains(t, names, "jwtauth.Authenticate")
	got := metrics(t, reader)
	assert.Equal(t, 1.0, got["jwtauth.authenticate.requests{outcome=ok}"]-before["jwtauth.authenticate.requests{outcome=ok}"])
	assert.Equal(t, 1.0, got["jwtauth.authenticate.duration{outcome=ok}"])
}
