package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof" // #nosec G108 -- served on the separate JWTAUTH_METRICS_ADDR listener only, never on the API's
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtauth/jwtauth"
)

// telemetry is the reference server's OpenTelemetry setup: a Prometheus
// registry behind JWTAUTH_METRICS_ADDR, and an OTLP trace exporter when
// the standard OTEL_* variables ask for one. Either part may be off.
type telemetry struct {
	registry *prometheus.Registry     // nil: metrics off
	meters   *sdkmetric.MeterProvider // nil: metrics off
	tracers  *sdktrace.TracerProvider // nil: traces off
	exporter sdktrace.SpanExporter    // the tracers' exporter
}

// newTelemetry builds what cfg and the OTEL_* variables (read through
// lookup) ask for. Traces are exported over OTLP/HTTP when
// OTEL_TRACES_EXPORTER is "otlp", or is unset while
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set; the exporter itself reads the other OTEL_EXPORTER_OTLP_* variables.
func newTelemetry(ctx context.Context, cfg jwtauth.Config, lookup func(string) (string, bool)) (*telemetry, error) {
	t := &telemetry{}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(serviceName(lookup)))
	if err != nil {
		return nil, fmt.Errorf("%w: OTEL_RESOURCE_ATTRIBUTES: %w", jwtauth.ErrConfig, err)
	}
	if cfg.MetricsAddr != "" {
		t.registry = prometheus.NewRegistry()
		t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		exp, err := otelprom.New(otelprom.WithRegisterer(t.registry))
		if err != nil {
			return nil, err
		}
		t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	}
	on, err := tracesWanted(lookup)
	if err != nil {
		return nil, err
	}
	if on {
		if t.exporter, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("%w: OTEL_EXPORTER_OTLP_*: %w", jwtauth.ErrConfig, err)
		}
		t.tracers = sdktrace.NewTracerProvider(sdktrace.WithBatcher(t.exporter), sdktrace.WithResource(res))
	}
	return t, nil
}

// serviceName is service.name: OTEL_SERVICE_NAME, default "jwtauth".
func serviceName(lookup func(string) (string, bool)) attribute.KeyValue {
	name, ok := lookup("OTEL_SERVICE_NAME")
	if !ok || name == "" {
		name = "jwtauth"
	}
	return attribute.String("service.name", name)
}

// tracesWanted reads OTEL_TRACES_EXPORTER (otlp or none; only OTLP over
// HTTP is built in) and the OTLP endpoint variables.
func tracesWanted(lookup func(string) (string, bool)) (bool, error) {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	switch exp := get("OTEL_TRACES_EXPORTER"); exp {
	case "otlp":
	case "none":
		return false, nil
	case "":
		if get("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return false, nil
		}
	default:
		return false, fmt.Errorf("%w: OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", jwtauth.ErrConfig, exp)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := get(name); p != "" {
			if p != "http/protobuf" {
				return false, fmt.Errorf("%w: %s: %q is not supported (http/protobuf)", jwtauth.ErrConfig, name, p)
			}
			break
		}
	}
	return true, nil
}

// apply makes cfg's service report to t's providers.
func (t *telemetry) apply(cfg *jwtauth.Config) {
	if t.meters != nil {
		cfg.MeterProvider = t.meters
	}
	if t.tracers != nil {
		cfg.TracerProvider = t.tracers
	}
}

// Shutdown flushes the spans still buffered and stops the providers.
func (t *telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.tracers != nil {
		errs = append(errs, t.tracers.Shutdown(ctx))
	}
	if t.meters != nil {
		errs = append(errs, t.meters.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// metricsHandler serves /metrics (Prometheus text format) and
// /debug/pprof/.
func (t *telemetry) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveMetrics serves the metrics listener ln until ctx ends. Profiles
// take up to their ?seconds= (default 30 s), hence the long write timeout.
func (t *telemetry) serveMetrics(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           t.metricsHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Scrapes take milliseconds; a long profile is cut off, so that the
	// exit stays within the shutdown timeout.
	shCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 250*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		_ = srv.Close()
	}
	<-served
	return nil
}

// httpMetrics counts and times the reference server's answers, and
// starts each request's server span.
type httpMetrics struct {
	tracer    trace.Tracer
	responses metric.Int64Counter
	duration  metric.Float64Histogram
}

func newHTTPMetrics(cfg jwtauth.Config) (*httpMetrics, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(scopeName)
	responses, err1 := m.Int64Counter("jwtauth.http.responses", metric.WithUnit("{response}"),
		metric.WithDescription("Answers of the reference server, by route, status and error code."))
	duration, err2 := m.Float64Histogram("jwtauth.http.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to answer a request of the reference server, by route."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &httpMetrics{tracer: tp.Tracer(scopeName), responses: responses, duration: duration}, nil
}

// scopeName is the instrumentation scope of the reference server's own
// metrics and spans.
const scopeName = "github.com/jwtauth/jwtauth/cmd/jwtauth"

// startSpan starts r's server span, a child of the caller's traceparent
// when there is one.
func (m *httpMetrics) startSpan(r *http.Request, route string) (context.Context, trace.Span) {
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return m.tracer.Start(ctx, spanMethod(r.Method)+" "+route, trace.WithSpanKind(trace.SpanKindServer))
}

// spanMethod keeps span names a closed set: the method a client sends is
// its own choice, so methods HTTP does not define are named "HTTP".
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}

// record counts an answer and ends its span. route, status and code come
// from closed sets: the registered routes, the statuses the server sends
// and the contract's error codes.
func (m *httpMetrics) record(ctx context.Context, span trace.Span, route string, status int, code string, took time.Duration) {
	attrs := metric.WithAttributes(attribute.String("route", route),
		attribute.Int("status", status), attribute.String("code", code))
	m.responses.Add(ctx, 1, attrs)
	m.duration.Record(ctx, took.Seconds(), metric.WithAttributes(attribute.String("route", route)))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, code)
		}
	}
	span.End()
}
