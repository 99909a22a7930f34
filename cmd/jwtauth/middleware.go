package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

// requestLog logs one line per request: method, path (without the
// query), status, error code (the "error" member of an error answer),
// duration, request id and peer address. It never logs headers, bodies or
// tokens. It echoes X-Request-ID, or sets a generated one when the request
// has none (or one that is not 1 to 128 characters of [A-Za-z0-9._:-]).
// It counts and times each answer (see httpMetrics), and starts the
// request's server span under the caller's W3C traceparent, so the
// service's spans join the caller's trace. Errors returned by handlers are
// answered here (c.Error) so that the logged status is the one sent.
func requestLog(log *slog.Logger, m *httpMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			r := c.Request()
			id := r.Header.Get(requestIDHeader)
			if !validRequestID(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(requestIDHeader, id)
			route := routeOf(c)
			ctx, span := m.startSpan(r, route)
			c.SetRequest(r.WithContext(ctx))
			sniff := &codeSniffer{ResponseWriter: c.Response().Writer}
			c.Response().Writer = sniff
			if err := next(c); err != nil {
				c.Error(err)
			}
			status, code, took := c.Response().Status, sniff.code(), time.Since(start)
			m.record(ctx, span, route, status, code, took)
			peer, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				peer = r.RemoteAddr
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.String("code", code),
				slog.Duration("duration", took),
				slog.String("request_id", id),
				slog.String("remote_ip", peer),
			)
			return nil
		}
	}
}

// requestIDHeader carries the request id, echoed in every answer.
const requestIDHeader = "X-Request-ID"

// validRequestID accepts 1 to 128 characters of [A-Za-z0-9._:-], so a
// client's id can go in logs as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := range len(id) {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '.', b == '_', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// routeOf is the request's route pattern, which Echo's router takes from
// the registered routes (a closed set, unlike paths, which carry session
// ids), or "unmatched".
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// codeSniffer keeps the first bytes of an error answer's body, to log and
// count its error code.
type codeSniffer struct {
	http.ResponseWriter
	status int
	body   []byte
}

// maxSniff bounds what codeSniffer keeps; error bodies are far shorter.
const maxSniff = 1 << 10

func (s *codeSniffer) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

func (s *codeSniffer) Write(p []byte) (int, error) {
	if s.status >= 400 && len(s.body) < maxSniff {
		s.body = append(s.body, p[:min(len(p), maxSniff-len(s.body))]...)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *codeSniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// code is the "error" member of an error answer, "" for a success or a
// body that is not a JSON error of the contract.
func (s *codeSniffer) code() string {
	if s.status < 400 {
		return ""
	}
	var b struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(s.body, &b) != nil || !isCode(b.Error) {
		return ""
	}
	return b.Error
}

// isCode accepts what error codes look like: 1 to 40 of [a-z_].
func isCode(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := range len(s) {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
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

// requestTimeout gives every request a deadline: the store calls under it
// end with it, and the request is answered 503 unavailable.
func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if d <= 0 {
			return next
		}
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
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
