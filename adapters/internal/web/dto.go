package web

import (
	"time"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// TokenType is the "token_type" of unbound tokens (RFC 6750 §4); bound
// ones are TokenTypeDPoP.
const TokenType = "Bearer"

// LoginResponse is the 200 body of a login.
type LoginResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`         // seconds
	RefreshExpiresIn int64  `json:"refresh_expires_in"` // seconds
	SessionID        string `json:"session_id"`
}

// RefreshResponse is the 200 body of a refresh. RefreshToken and
// RefreshExpiresIn are present only when rotation issued a new refresh
// token.
type RefreshResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"` // seconds
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn *int64 `json:"refresh_expires_in,omitempty"` // seconds
}

// RefreshRequest is the body of POST /refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// VerifyRequest is the body of POST /verify.
type VerifyRequest struct {
	Token string `json:"token"`
}

// VerifyResponse is the body of POST /verify: 200 with Valid true and the
// token type, or 401 with Valid false and the error code.
type VerifyResponse struct {
	Valid     bool   `json:"valid"`
	TokenType string `json:"token_type,omitempty"`
	Error     string `json:"error,omitempty"`
}

// SessionView is one element of the GET /sessions body. Times are RFC 3339
// in UTC; IP is empty when unknown.
type SessionView struct {
	ID         string `json:"id"`
	DeviceName string `json:"device_name"`
	IP         string `json:"ip"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	Current    bool   `json:"current"`
	// DPoPJKT is the thumbprint of the DPoP key the session is bound to,
	// absent when it is not bound.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
}

// NewLoginResponse returns the login body of pair at now.
func NewLoginResponse(pair app.Pair, now time.Time) LoginResponse {
	return LoginResponse{
		AccessToken:      pair.AccessToken,
		RefreshToken:     pair.RefreshToken,
		TokenType:        tokenType(pair.JKT),
		ExpiresIn:        seconds(pair.AccessExpiresAt.Sub(now)),
		RefreshExpiresIn: seconds(pair.RefreshExpiresAt.Sub(now)),
		SessionID:        pair.SessionID,
	}
}

// NewRefreshResponse returns the refresh body of pair at now.
func NewRefreshResponse(pair app.Pair, now time.Time) RefreshResponse {
	r := RefreshResponse{
		AccessToken: pair.AccessToken,
		TokenType:   tokenType(pair.JKT),
		ExpiresIn:   seconds(pair.AccessExpiresAt.Sub(now)),
	}
	if pair.RefreshToken != "" {
		r.RefreshToken = pair.RefreshToken
		s := seconds(pair.RefreshExpiresAt.Sub(now))
		r.RefreshExpiresIn = &s
	}
	return r
}

// NewSessionViews returns the sessions body; current is the requesting
// session's id. It is never nil, so it encodes as [] when empty.
func NewSessionViews(sessions []domain.Session, current string) []SessionView {
	out := make([]SessionView, 0, len(sessions))
	for _, s := range sessions {
		v := SessionView{
			ID:         s.ID,
			DeviceName: s.DeviceName,
			CreatedAt:  rfc3339(s.CreatedAt),
			LastSeenAt: rfc3339(s.LastSeenAt),
			Current:    s.ID == current,
			DPoPJKT:    s.JKT,
		}
		if s.IP.IsValid() {
			v.IP = s.IP.String()
		}
		out = append(out, v)
	}
	return out
}

// seconds rounds d to whole seconds, never below zero.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second/2) / time.Second)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
