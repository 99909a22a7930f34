package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

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
	if !cfg.Production() {
		if err := devKeys(&cfg, logger, true); err != nil {
			return cfg, logger, err
		}
		checkKeysFileMode(cfg.DataDir, logger)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, logger, err
	}
	return cfg, logger, cfg.RequireKeys()
}

// runServe runs the reference server until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "jwtauth serve: unexpected arguments %q\n\n%s", args, usage)
		return 2
	}
	cfg, log, err := loadServeConfig(lookup, func(env string) *slog.Logger { return newLogger(stderr, env) })
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return 2
	}
	slog.SetDefault(log) // the adapters' own logs (e.g. the PostgreSQL listener) go the same way
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	log.Info("starting jwtauth reference server", "env", cfg.Env, "store", storeDescription(cfg),
		"encrypt", cfg.Encrypt, "cache", cfg.Cache, "ip_binding", cfg.IPBinding,
		"device_limit", cfg.DeviceLimit, "device_policy", cfg.DevicePolicy,
		"rotate_refresh", cfg.RotateRefresh, "trusted_proxies", len(cfg.TrustedProxies))
	srv, err := newServer(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return exitCode(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: JWTAUTH_ADDR: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "jwtauth serve: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// exitCode is 2 for configuration errors, else 1.
func exitCode(err error) int {
	if errors.Is(err, jwtauth.ErrConfig) {
		return 2
	}
	return 1
}
