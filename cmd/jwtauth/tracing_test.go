package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestLoginSpanTree logs in through a real server whose service reports
// to an in-memory exporter, under a caller's traceparent: the spans are
// the server span, jwtauth.Login under it and the store's UpdateUser
// under that, all in the caller's trace.
func TestLoginSpanTree(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	cfg := testConfig(t, testEnv(t, nil))
	cfg.TracerProvider = tp
	srv, err := newServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer srv.Close(10 * time.Second)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	caller := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/auth/login",
		strings.NewReader(`{"username":"alice","password":"alice-password"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	propagation.TraceContext{}.Inject(trace.ContextWithRemoteSpanContext(context.Background(), caller),
		propagation.HeaderCarrier(req.Header))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	spans := exp.GetSpans()
	require.Len(t, spans, 3, "%v", spans)
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
		assert.Equal(t, caller.TraceID(), s.SpanContext.TraceID(), "%s joins the caller's trace", s.Name)
	}
	server, login, update := byName["POST /auth/login"], byName["jwtauth.Login"], byName["jwtauth.store.UpdateUser"]
	assert.Equal(t, caller.SpanID(), server.Parent.SpanID())
	assert.Equal(t, trace.SpanKindServer, server.SpanKind)
	assert.Equal(t, server.SpanContext.SpanID(), login.Parent.SpanID())
	assert.Equal(t, login.SpanContext.SpanID(), update.Parent.SpanID())
	assert.Equal(t, trace.SpanKindClient, update.SpanKind)
}

// TestServeExportsTracesOverOTLP runs `jwtauth serve` with the standard
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at a fake collector: the spans of a
// login arrive there, OTLP/HTTP protobuf, by the time serve returns.
func TestServeExportsTracesOverOTLP(t *testing.T) {
	var (
		mu    sync.Mutex
		names []string
		svc   []string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		assert.Equal(t, "/v1/traces", r.URL.Path)
		assert.Equal(t, "application/x-protobuf", r.Header.Get("Content-Type"))
		var req coltrace.ExportTraceServiceRequest
		assert.NoError(t, proto.Unmarshal(body, &req))
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					svc = append(svc, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer collector.Close()
	// The OTLP exporter reads the process environment itself.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "jwtauth-test")
	env := testEnv(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
		"OTEL_SERVICE_NAME":           "jwtauth-test",
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, strings.NewReader(""), pw, &errOut, mapLookup(env), environ(env))
		_ = pw.Close()
	}()
	buf := make([]byte, 256)
	n, err := pr.Read(buf)
	require.NoError(t, err, errOut.String())
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := "http://" + listenAddr(t, string(buf[:n]))
	login(t, base, "alice", "alice-password")
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errOut.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, names, "jwtauth.Login")
	assert.Contains(t, names, "jwtauth.store.UpdateUser")
	assert.Contains(t, names, "POST /auth/login")
	assert.Contains(t, svc, "jwtauth-test")
}

// listenAddr is the host:port of a "listening on http://..." line.
func listenAddr(t *testing.T, line string) string {
	t.Helper()
	var addr string
	_, err := fmt.Sscanf(line, "listening on http://%s", &addr)
	require.NoError(t, err, line)
	_, _, err = net.SplitHostPort(addr)
	require.NoError(t, err, line)
	return addr
}

func TestTracesWanted(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
		err  string
	}{
		{nil, false, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, false, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, "OTEL_TRACES_EXPORTER"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, ""},
	}
	for _, tt := range tests {
		got, err := tracesWanted(mapLookup(tt.env))
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, "%v", tt.env)
			continue
		}
		assert.NoError(t, err, "%v", tt.env)
		assert.Equal(t, tt.want, got, "%v", tt.env)
	}
}

// Span names stay a closed set whatever method a client sends.
func TestSpanMethodClosedSet(t *testing.T) {
	assert.Equal(t, "POST", spanMethod("POST"))
	assert.Equal(t, "HTTP", spanMethod("BREW"))
	assert.Equal(t, "HTTP", spanMethod("post"))
}
