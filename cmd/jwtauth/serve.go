package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/jwtauth/jwtauth"
)

// newLogger returns the process logger on w: JSON lines in production,
// text elsewhere.
func newLogger(w io.Writer, env string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if env == "production" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadServeConfig reads the configuration and, outside production,
// completes missing keys from (or generates them into) DataDir/keys.env.
func loadServeConfig(lookup func(string) (string, bool), log func(env string) *slog.Logger) (jwtauth.Config, *slog.Logger, error) {
	cfg, err := jwtauth.LoadConfig(lookup)
	if err != nil {
		return cfg, log("development"), err
	}
	logger := log(cfg.Env)
	if err := cfg.DevKeys(logger, true); err != nil { // nothing in production
		return cfg, logger, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, logger, err
	}
	return cfg, logger, cfg.RequireKeys()
}

// runServe runs the reference server until ctx ends.
// warnings (unknown variables) are logged once the logger exists.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool), warnings []string) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "jwtauth serve: unexpected arguments %q\n\n%s", args, commandUsage["serve"])
		return 2
	}
	cfg, log, err := loadServeConfig(lookup, func(env string) *slog.Logger { return newLogger(stderr, env) })
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return 2
	}
	slog.SetDefault(log) // the adapters' own logs (e.g. the PostgreSQL listener) go the same way
	for _, w := range append(warnings, cfg.Warnings()...) {
		log.Warn(w)
	}
	log.Info("starting jwtauth reference server", "env", cfg.Env, "store", storeDescription(cfg),
		"encrypt", cfg.Encrypt, "cache", cfg.Cache, "ip_binding", cfg.IPBinding,
		"device_limit", cfg.DeviceLimit, "device_policy", cfg.DevicePolicy,
		"rotate_refresh", cfg.RotateRefresh, "trusted_proxies", len(cfg.TrustedProxies))
	tel, err := newTelemetry(ctx, cfg, lookup)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return exitCode(err)
	}
	// exitBy is when the shutdown timeout ends, once the server has stopped:
	// flushing spans gets what is left of it (at least flushMin), so the
	// exit comes within JWTAUTH_SHUTDOWN_TIMEOUT plus a fraction of a second
	// even with an OTLP collector that does not answer.
	var exitBy time.Time
	defer func() {
		flush := 5 * time.Second
		if !exitBy.IsZero() {
			flush = max(time.Until(exitBy), flushMin)
		}
		shCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flush)
		defer cancel()
		if err := tel.Shutdown(shCtx); err != nil {
			log.Warn("flushing telemetry failed", "err", err)
		}
	}()
	tel.apply(&cfg)
	srv, err := newServer(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return exitCode(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.Close(cfg.ShutdownTimeout)
		fmt.Fprintf(stderr, "jwtauth serve: JWTAUTH_ADDR: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			srv.Close(cfg.ShutdownTimeout)
			fmt.Fprintf(stderr, "jwtauth serve: JWTAUTH_METRICS_ADDR: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", mln.Addr())
		log.Info("serving /metrics and /debug/pprof/", "addr", "http://"+mln.Addr().String())
		metricsCtx, stopMetrics := context.WithCancel(ctx)
		metricsDone := make(chan error, 1)
		go func() { metricsDone <- tel.serveMetrics(metricsCtx, mln) }()
		defer func() {
			stopMetrics()
			if err := <-metricsDone; err != nil {
				log.Warn("metrics listener failed", "err", err)
			}
		}()
	}
	var stopAt atomic.Int64
	context.AfterFunc(ctx, func() { stopAt.Store(time.Now().UnixNano()) })
	err = srv.Serve(ctx, ln)
	left := cfg.ShutdownTimeout
	if at := stopAt.Load(); at != 0 {
		left -= time.Since(time.Unix(0, at))
	}
	exitBy = time.Now().Add(left)
	// What is left of the drain time releases the backend; a database that
	// does not answer must not hold the exit.
	if !srv.Close(max(left, 100*time.Millisecond)) {
		log.Warn("the database connections were not closed in time; exiting anyway")
	}
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// flushMin is the least time the span flush gets at exit.
const flushMin = 250 * time.Millisecond

// exitCode is 2 for configuration errors, else 1.
func exitCode(err error) int {
	if errors.Is(err, jwtauth.ErrConfig) {
		return 2
	}
	return 1
}
