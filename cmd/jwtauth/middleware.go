package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/throttle"
)

// maxBodyBytes bounds every request body (the adapters' JSON decoder has
// the same limit).
const maxBodyBytes = 64 << 10

// The error codes the reference server adds to the adapters' table.
const (
	codeInvalidRequest  = "invalid_request"
	codeNotFound        = "not_found"
	codeTooManyRequests = "too_many_requests"
	codeUnavailable     = "unavailable"
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeError writes the JSON error {"error","error_description"} through
// echoauth.WriteJSON, so it carries the adapter's response headers, with
// Retry-After on a 503 as the adapter's own errors have.
func writeError(c echo.Context, status int, code, description string) {
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "1")
	}
	_ = echoauth.WriteJSON(c, status, errorBody{Error: code, Description: description})
}

// httpErrorHandler answers the errors that reach Echo: its own (unknown
// route 404, wrong method 405, body limit 413, ...) as JSON errors of the
// contract. Anything else is unexpected: it is logged and answered 503 —
// never Echo's default 500 — because the server fails closed.
func httpErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		he, ok := errors.AsType[*echo.HTTPError](err)
		switch {
		case ok && he.Code == http.StatusNotFound:
			writeError(c, http.StatusNotFound, codeNotFound, "no such resource")
		case ok && he.Code == http.StatusMethodNotAllowed:
			writeError(c, http.StatusMethodNotAllowed, codeInvalidRequest, "method not allowed on this resource")
		case ok && he.Code == http.StatusRequestEntityTooLarge:
			writeError(c, http.StatusRequestEntityTooLarge, codeInvalidRequest, "the request body is too large")
		case ok && he.Code >= 400 && he.Code < 500:
			writeError(c, he.Code, codeInvalidRequest, "the request is malformed or misses a parameter")
		default:
			log.Error("unexpected error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			writeError(c, http.StatusServiceUnavailable, codeUnavailable, "the service is temporarily unavailable, retry later")
		}
	}
}

// requestLog logs one line per request: method, path (without the query),
// status, duration and the peer address. It never logs headers, bodies or
// tokens. Errors returned by handlers are answered here (c.Error) so that
// the logged status is the one sent.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			r := c.Request()
			peer, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				peer = r.RemoteAddr
			}
			level := slog.LevelInfo
			if c.Response().Status >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote_ip", peer),
			)
			return nil
		}
	}
}

// recoverer is the last guard: a panic in a handler is logged with its
// stack and answered 503 unavailable. No code path should need it.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				stack := make([]byte, 8<<10)
				stack = stack[:runtime.Stack(stack, false)]
				log.Error("panic in handler", "method", c.Request().Method, "path", c.Request().URL.Path,
					"panic", fmt.Sprint(v), "stack", string(stack))
				if !c.Response().Committed {
					writeError(c, http.StatusServiceUnavailable, codeUnavailable,
						"the service is temporarily unavailable, retry later")
				}
				err = nil
			}()
			return next(c)
		}
	}
}

// bodyLimit answers a declared body over limit with 413 at once, and caps
// what a handler can read of any other body (chunked ones included) with
// http.MaxBytesReader, which the adapters' decoder reports as 413 too.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				writeError(c, http.StatusRequestEntityTooLarge, codeInvalidRequest, "the request body is too large")
				return nil
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			}
			return next(c)
		}
	}
}

// tooManyRequests answers a throttled login (err from the throttle).
func tooManyRequests(c echo.Context, err error) {
	secs := int64(1)
	if le, ok := errors.AsType[*throttle.LimitedError](err); ok {
		secs = le.RetryAfterSeconds()
	}
	c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(c, http.StatusTooManyRequests, codeTooManyRequests, "too many login attempts, retry later")
}
