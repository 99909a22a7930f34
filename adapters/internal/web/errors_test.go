package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantCode   string
		wantKnown  bool
	}{
		{domain.ErrMissingToken, 401, "invalid_token", true},
		{ErrBodyTooLarge, 413, "invalid_request", true},
		{domain.ErrMalformed, 401, "invalid_token", true},
		{domain.ErrInvalid, 401, "invalid_token", true},
		{domain.ErrExpired, 401, "token_expired", true},
		{domain.ErrRevoked, 401, "token_revoked", true},
		{domain.ErrWrongTokenType, 401, "wrong_token_type", true},
		{domain.ErrClientMismatch, 401, "client_mismatch", true},
		{domain.ErrRefreshReused, 401, "refresh_reused", true},
		{domain.ErrInvalidCredentials, 401, "invalid_credentials", true},
		{domain.ErrDeviceLimitReached, 403, "device_limit_reached", true},
		{domain.ErrSessionNotFound, 404, "not_found", true},
		{domain.ErrInvalidArgument, 400, "invalid_request", true},
		{ErrRouteNotFound, 404, "not_found", true},
		{ErrMethodNotAllowed, 405, "invalid_request", true},
		{domain.ErrUnavailable, 503, "unavailable", true},
		{fmt.Errorf("load user: %w", domain.ErrRevoked), 401, "token_revoked", true},
		{errors.Join(domain.ErrRevoked, domain.ErrUnavailable), 503, "unavailable", true},
		{errors.New("boom"), 503, "unavailable", false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			p := Classify(tt.err)
			assert.Equal(t, tt.wantStatus, p.Status)
			assert.Equal(t, tt.wantCode, p.Code)
			assert.Equal(t, tt.wantKnown, p.Known)
			assert.NotEmpty(t, p.Description)
			assert.NotContainsf(t, p.Description, `"`, "description must fit a quoted-string")
			assert.NotContains(t, p.Description, `\`)
		})
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantStatus    int
		wantChallenge string
		wantRetry     string
		wantLog       string
	}{
		{name: "missing", err: domain.ErrMissingToken, wantStatus: 401, wantChallenge: `Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`},
		{name: "expired", err: domain.ErrExpired, wantStatus: 401, wantChallenge: `Bearer error="invalid_token", error_description="the token has expired"`},
		{name: "credentials", err: domain.ErrInvalidCredentials, wantStatus: 401, wantChallenge: `Bearer error="invalid_token", error_description="invalid username or password"`},
		{name: "forbidden", err: domain.ErrDeviceLimitReached, wantStatus: 403},
		{name: "unavailable", err: fmt.Errorf("%w: db down", domain.ErrUnavailable), wantStatus: 503, wantRetry: "1", wantLog: "level=WARN"},
		{name: "unknown", err: errors.New("secret-ish <input>"), wantStatus: 503, wantRetry: "1", wantLog: "level=ERROR"},
		{name: "nil", err: nil, wantStatus: 503, wantRetry: "1", wantLog: "level=ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest(http.MethodGet, "/x", nil), log, tt.err)
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.Equal(t, tt.wantChallenge, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, tt.wantRetry, w.Header().Get("Retry-After"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var body map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			assert.Len(t, body, 2)
			assert.NotContains(t, w.Body.String(), "input", "the error string never reaches the client")
			if tt.wantLog == "" {
				assert.Empty(t, logs.String())
			} else {
				assert.True(t, strings.Contains(logs.String(), tt.wantLog), "log: %s", logs.String())
			}
		})
	}
}

// The use cases' telemetry outcomes (app.Outcome) name each domain error
// by the code this table answers it with, so the two lists cannot drift.
// Transport errors and a missing token never reach the use cases.
func TestOutcomesMatchTheErrorTable(t *testing.T) {
	transport := []error{domain.ErrMissingToken, ErrCrossOrigin, ErrBodyTooLarge, ErrUnsupportedMediaType,
		ErrRouteNotFound, ErrMethodNotAllowed, dpop.ErrUseNonce, dpop.ErrInvalidProof}
	codes := []string{"ok"}
	for _, e := range problems {
		if slices.Contains(transport, e.err) {
			continue
		}
		assert.Equal(t, e.p.Code, app.Outcome(e.err), "%v", e.err)
		if !slices.Contains(codes, e.p.Code) {
			codes = append(codes, e.p.Code)
		}
	}
	assert.ElementsMatch(t, app.Outcomes, codes, "every outcome but ok is the code of a domain error of the table")
}
