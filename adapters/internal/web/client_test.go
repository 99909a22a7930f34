package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrustedProxies(s)
	require.NoError(t, err)
	return p
}

func TestResolveIP(t *testing.T) {
	trusted := "10.0.0.0/8, 192.168.1.1, fd00::/8"
	tests := []struct {
		name    string
		trusted string
		remote  string
		xff     []string // header lines
		want    string   // "" = invalid
	}{
		{name: "peer without trusted proxies", remote: "203.0.113.9:1234", want: "203.0.113.9"},
		{name: "xff ignored without trusted proxies", remote: "203.0.113.9:1234", xff: []string{"198.51.100.1"}, want: "203.0.113.9"},
		{name: "xff ignored from untrusted peer", trusted: trusted, remote: "203.0.113.9:1234", xff: []string{"198.51.100.1"}, want: "203.0.113.9"},
		{name: "trusted peer without xff", trusted: trusted, remote: "10.1.2.3:80", want: "10.1.2.3"},
		{name: "trusted peer, one hop", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "rightmost untrusted wins", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, want: "198.51.100.1"},
		{name: "several header lines are one list", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"1.1.1.1, 198.51.100.1", "10.9.9.9", "192.168.1.1"}, want: "198.51.100.1"},
		{name: "all trusted: leftmost", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"192.168.1.1, 10.0.0.7"}, want: "192.168.1.1"},
		{name: "unparsable stops at the last good hop", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1, unknown, 10.0.0.7"}, want: "10.0.0.7"},
		{name: "unparsable right after the peer", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1, garbage"}, want: "10.1.2.3"},
		{name: "empty entry is unparsable", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1,,10.0.0.7"}, want: "10.0.0.7"},
		{name: "empty header line is unparsable", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1", ""}, want: "10.1.2.3"},
		{name: "address with port", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1:4711"}, want: "198.51.100.1"},
		{name: "bracketed IPv6", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"[2001:db8::1]"}, want: "2001:db8::1"},
		{name: "bracketed IPv6 with port", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "IPv6 trusted peer", trusted: trusted, remote: "[fd00::1]:80", xff: []string{"2001:db8::2"}, want: "2001:db8::2"},
		{name: "mapped peer is unmapped", trusted: trusted, remote: "[::ffff:10.1.2.3]:80", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "mapped xff entry is unmapped", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"::ffff:198.51.100.1"}, want: "198.51.100.1"},
		{name: "mapped trusted hop is trusted", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1, ::ffff:10.0.0.9"}, want: "198.51.100.1"},
		{name: "zone removed", remote: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "unparsable peer", trusted: trusted, remote: "not-an-address", xff: []string{"198.51.100.1"}, want: ""},
		{name: "empty peer", remote: "", want: ""},
		{name: "peer without port", remote: "203.0.113.9", want: "203.0.113.9"},
		{name: "too many trusted hops", trusted: trusted, remote: "10.1.2.3:80", xff: []string{"198.51.100.1," + strings.Repeat("10.0.0.1,", MaxForwardedHops) + "10.0.0.2"}, want: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ClientResolver{TrustedProxies: mustPrefixes(t, tt.trusted)}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			for _, l := range tt.xff {
				req.Header.Add("X-Forwarded-For", l)
			}
			got := r.Resolve(req).IP
			if tt.want == "" {
				assert.False(t, got.IsValid(), "got %v", got)
				return
			}
			assert.Equal(t, netip.MustParseAddr(tt.want), got)
		})
	}
}

func uaHash(ua string) string {
	sum := sha256.Sum256([]byte(ua))
	return "ua:" + hex.EncodeToString(sum[:])[:32]
}

func TestResolveDevice(t *testing.T) {
	tests := []struct {
		name     string
		header   string // DeviceHeader
		devices  []string
		ua       string
		wantID   string
		wantName string
	}{
		{name: "header", devices: []string{"phone-1"}, ua: "UA", wantID: "phone-1", wantName: "UA"},
		{name: "header trimmed", devices: []string{"  phone-1 "}, ua: "UA", wantID: "phone-1", wantName: "UA"},
		{name: "custom header", header: "X-Client", devices: nil, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "no header: UA hash", ua: "Mozilla/5.0", wantID: uaHash("Mozilla/5.0"), wantName: "Mozilla/5.0"},
		{name: "no header, no UA", wantID: uaHash(""), wantName: ""},
		{name: "blank header falls back", devices: []string{"   "}, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "too long falls back", devices: []string{strings.Repeat("a", MaxDeviceIDLen+1)}, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "longest accepted", devices: []string{strings.Repeat("a", MaxDeviceIDLen)}, ua: "UA", wantID: strings.Repeat("a", MaxDeviceIDLen), wantName: "UA"},
		{name: "non-ASCII falls back", devices: []string{"télé"}, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "control char falls back", devices: []string{"a\x01b"}, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "repeated header falls back", devices: []string{"a", "b"}, ua: "UA", wantID: uaHash("UA"), wantName: "UA"},
		{name: "long UA truncated", ua: strings.Repeat("x", 300), wantID: uaHash(strings.Repeat("x", 300)), wantName: strings.Repeat("x", MaxDeviceNameLen)},
		{name: "UA truncated at a rune boundary", ua: strings.Repeat("é", 200), wantID: uaHash(strings.Repeat("é", 200)), wantName: strings.Repeat("é", MaxDeviceNameLen/2)},
		{name: "invalid UTF-8 replaced", ua: "a\xffb", wantID: uaHash("a\xffb"), wantName: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ClientResolver{DeviceHeader: tt.header}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			h := tt.header
			if h == "" {
				h = DefaultDeviceHeader
			}
			for _, d := range tt.devices {
				req.Header.Add(h, d)
			}
			req.Header.Set("User-Agent", tt.ua)
			got := r.Resolve(req)
			assert.Equal(t, tt.wantID, got.DeviceID)
			assert.Equal(t, tt.wantName, got.DeviceName)
			assert.LessOrEqual(t, len(got.DeviceName), MaxDeviceNameLen)
			assert.True(t, utf8.ValidString(got.DeviceName))
			assert.Equal(t, domain.ClientInfo{IP: got.IP, DeviceID: got.DeviceID}, r.binding(req), "binding is Resolve without the name")
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{in: "192.168.1.1, 2001:db8::/32 ,::1", want: []string{"192.168.1.1/32", "2001:db8::/32", "::1/128"}},
		{in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{in: "::ffff:10.0.0.1", want: []string{"10.0.0.1/32"}},
		{in: "fe80::1%eth0", want: []string{"fe80::1/128"}},
		{in: "10.0.0.0/33", wantErr: domain.ErrInvalidArgument},
		{in: "10.0.0.0/8,nope", wantErr: domain.ErrInvalidArgument},
		{in: "localhost", wantErr: domain.ErrInvalidArgument},
		{in: "::ffff:0:0/90", wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			assert.Equal(t, tt.want, s)
		})
	}
}

func TestNormalizePrefixesRejectsZero(t *testing.T) {
	_, err := NormalizePrefixes([]netip.Prefix{{}})
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}
