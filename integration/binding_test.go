package integration

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIPBinding: access tokens are bound to the client IP, which is the
// TCP peer; X-Forwarded-For from an untrusted peer is ignored.
func TestIPBinding(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers}))
		local := s.client(t, clientOpts{Device: "d1"})
		other := s.client(t, clientOpts{Device: "d1", From: "127.0.0.2"})

		lr := local.login(t, "alice", "alice-password")
		wantMe(t, local.me(t, lr.AccessToken), "alice")
		wantError(t, other.me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")

		// An untrusted peer cannot claim the bound address...
		spoof := other.with(clientOpts{XFF: "127.0.0.1"})
		wantError(t, spoof.me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")
		// ...nor move its own binding at login.
		lr2 := local.with(clientOpts{XFF: "203.0.113.9"}).login(t, "bob", "bob-password")
		wantMe(t, local.me(t, lr2.AccessToken), "bob")
		wantMe(t, local.with(clientOpts{XFF: "203.0.113.9"}).me(t, lr2.AccessToken), "bob")
		list := local.sessions(t, lr2.AccessToken)
		require.Len(t, list, 1)
		assert.Equal(t, "127.0.0.1", list[0]["ip"])

		// Refresh tokens are bound to the device only: refreshing from the
		// new address rebinds the session and the new access token.
		r := other.refresh(t, lr.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		moved := r.Object(t)["access_token"].(string)
		wantMe(t, other.me(t, moved), "alice")
		wantError(t, local.me(t, moved), http.StatusUnauthorized, "client_mismatch")
		list = other.sessions(t, moved)
		require.Len(t, list, 1)
		assert.Equal(t, "127.0.0.2", list[0]["ip"])
	})
}

// TestTrustedProxies: behind a trusted proxy the client IP is taken from
// X-Forwarded-For, but only when the peer is that proxy.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_TRUSTED_PROXIES": "127.0.0.1/32"}))
		proxy := s.client(t, clientOpts{Device: "d1"})
		viaProxy := proxy.with(clientOpts{XFF: "203.0.113.7"})

		lr := viaProxy.login(t, "alice", "alice-password")
		list := viaProxy.sessions(t, lr.AccessToken)
		require.Len(t, list, 1)
		assert.Equal(t, "203.0.113.7", list[0]["ip"], "the forwarded address is the client")
		wantMe(t, viaProxy.me(t, lr.AccessToken), "alice")
		wantMe(t, proxy.with(clientOpts{XFF: "198.51.100.1, 203.0.113.7"}).me(t, lr.AccessToken), "alice")
		wantError(t, proxy.with(clientOpts{XFF: "203.0.113.8"}).me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")
		wantError(t, proxy.me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")

		// 127.0.0.2 is not a trusted proxy: its X-Forwarded-For is ignored.
		untrusted := s.client(t, clientOpts{Device: "d1", From: "127.0.0.2", XFF: "203.0.113.7"})
		wantError(t, untrusted.me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")
	})
}

// TestDeviceBinding: tokens are bound to the X-Device-ID header, or to the
// User-Agent without it.
func TestDeviceBinding(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers}))
		phone := s.client(t, clientOpts{Device: "phone-1"})
		lr := phone.login(t, "alice", "alice-password")
		wantMe(t, phone.me(t, lr.AccessToken), "alice")
		wantMe(t, phone.with(clientOpts{UA: "Other/9"}).me(t, lr.AccessToken), "alice")
		wantError(t, phone.with(clientOpts{Device: "phone-2"}).me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")
		wantError(t, phone.with(clientOpts{Device: "phone-2"}).refresh(t, lr.RefreshToken), http.StatusUnauthorized, "client_mismatch")
		noHeader := s.client(t, clientOpts{UA: "Browser/1"})
		wantError(t, noHeader.me(t, lr.AccessToken), http.StatusUnauthorized, "client_mismatch")

		// Without the header, the User-Agent is the device.
		br := noHeader.login(t, "bob", "bob-password")
		wantMe(t, noHeader.me(t, br.AccessToken), "bob")
		wantError(t, s.client(t, clientOpts{UA: "Browser/2"}).me(t, br.AccessToken), http.StatusUnauthorized, "client_mismatch")
	})
}
