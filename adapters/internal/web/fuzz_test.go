package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
)

// FuzzResolve checks Resolve on arbitrary RemoteAddr, X-Forwarded-For
// (newlines separate header lines), device header and User-Agent: no
// panic; the IP is invalid, the peer, or an X-Forwarded-For entry right of
// every unparsable one (and only behind a trusted peer); the device id and
// name keep their bounds.
func FuzzResolve(f *testing.F) {
	f.Add("10.0.0.1:80", "203.0.113.9", "phone-1", "Mozilla/5.0")
	f.Add("127.0.0.1:1", "198.51.100.1, garbage, 10.0.0.7", "", "")
	f.Add("[::1]:443", "[2001:db8::1]:80,::ffff:10.0.0.1\n1.2.3.4", " x ", "é\xff")
	f.Add("203.0.113.9:5", "10.0.0.1", "\x00", strings.Repeat("a", 300))
	f.Add("[fe80::1%eth0]:1", ",,,", strings.Repeat("d", 129), "ua")
	r := ClientResolver{TrustedProxies: mustParse(f, "127.0.0.0/8, 10.0.0.0/8, ::1, fd00::/8")}
	f.Fuzz(func(t *testing.T, remote, xff, device, ua string) {
		req := &http.Request{Header: http.Header{}, RemoteAddr: remote}
		lines := strings.Split(xff, "\n")
		if xff != "" {
			req.Header["X-Forwarded-For"] = lines
		}
		req.Header["X-Device-Id"] = []string{device}
		req.Header["User-Agent"] = []string{ua}

		got := r.Resolve(req)

		peer := parseHost(remote)
		switch {
		case !got.IP.IsValid():
			// Only an unparsable peer yields no address.
			assert.False(t, peer.IsValid())
		case got.IP == peer:
		default:
			require.True(t, peer.IsValid() && r.trusted(peer), "XFF used behind an untrusted peer")
			var entries []string
			if xff != "" {
				for _, l := range lines {
					entries = append(entries, strings.Split(l, ",")...)
				}
			}
			// The usable window: right of the rightmost unparsable entry.
			window := entries
			for i := len(entries) - 1; i >= 0; i-- {
				if !parseHost(strings.TrimSpace(entries[i])).IsValid() {
					window = entries[i+1:]
					break
				}
			}
			found := false
			for _, e := range window {
				if parseHost(strings.TrimSpace(e)) == got.IP {
					found = true
				}
			}
			assert.True(t, found, "IP %v is not from the trusted part of %q", got.IP, xff)
		}
		assert.Equal(t, got.IP, got.IP.Unmap().WithZone(""), "IP is unmapped and zoneless")

		if d := strings.TrimSpace(device); got.DeviceID != d {
			assert.Len(t, got.DeviceID, 3+32)
			assert.True(t, strings.HasPrefix(got.DeviceID, "ua:"))
		}
		assert.LessOrEqual(t, len(got.DeviceID), MaxDeviceIDLen)
		assert.True(t, got.DeviceID != "" && printableASCII(got.DeviceID))
		assert.LessOrEqual(t, len(got.DeviceName), MaxDeviceNameLen)
		assert.True(t, utf8.ValidString(got.DeviceName))
	})
}

func mustParse(tb testing.TB, s string) []netip.Prefix {
	p, err := ParseTrustedProxies(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// FuzzAccessToken checks AccessToken, the device cookie and CheckOrigin on
// arbitrary Cookie, Authorization, Origin and Sec-Fetch-Site headers: no
// panic, and a token returned is 1 to app.MaxTokenLen visible ASCII bytes.
func FuzzAccessToken(f *testing.F) {
	f.Add("jwtauth_access=abc.def", "", "https://evil.example", "cross-site")
	f.Add("jwtauth_access=a; jwtauth_access=b; jwtauth_device=x", "Bearer t", "", "")
	f.Add("jwtauth_refresh=\"q\"; other=1", "Basic eA==", "null", "same-site")
	b := Browser{}
	f.Fuzz(func(t *testing.T, cookie, authz, origin, site string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/auth/browser/login", nil)
		req.Header.Set("Cookie", cookie)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", site)
		if tok, _, err := AccessToken(req); err == nil {
			if tok == "" || len(tok) > app.MaxTokenLen {
				t.Fatalf("token of %d bytes accepted", len(tok))
			}
			for i := 0; i < len(tok); i++ {
				if tok[i] <= 0x20 || tok[i] >= 0x7f {
					t.Fatalf("token with byte %#x accepted", tok[i])
				}
			}
		}
		if id := (ClientResolver{}).Resolve(req).DeviceID; id == "" || len(id) > MaxDeviceIDLen {
			t.Fatalf("device id of %d bytes", len(id))
		}
		_ = b.CheckOrigin(req, true)
		_ = b.CheckOrigin(req, false)
	})
}
