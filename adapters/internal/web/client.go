package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/jwtauth/jwtauth/domain"
)

// Client resolution limits and defaults.
const (
	// DefaultDeviceHeader is the request header naming the device when
	// ClientResolver.DeviceHeader is empty.
	DefaultDeviceHeader = "X-Device-ID"
	// MaxDeviceIDLen is the longest device header value used as a device
	// id; a longer value falls back to the User-Agent hash.
	MaxDeviceIDLen = 128
	// MaxDeviceNameLen is the length in bytes a User-Agent is truncated to
	// (at a rune boundary) to form the device name.
	MaxDeviceNameLen = 256
	// MaxForwardedHops bounds how many X-Forwarded-For entries Resolve
	// examines. A chain of more trusted hops than this ends the walk as an
	// unparsable entry would.
	MaxForwardedHops = 32
)

// ClientResolver derives a request's domain.ClientInfo: the client IP the
// tokens are bound to and the device they belong to. The zero value trusts
// no proxy and reads the device id from the X-Device-ID header.
type ClientResolver struct {
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	// Optional. Default none: X-Forwarded-For is ignored and the client IP
	// is the TCP peer. Prefixes should be normalised by NormalizePrefixes
	// (Masked, IPv4-mapped IPv6 prefixes unmapped); ParseTrustedProxies
	// returns them so.
	TrustedProxies []netip.Prefix
	// DeviceHeader is the header carrying a client-chosen device id.
	// Optional. Default "X-Device-ID".
	DeviceHeader string
}

// Resolve returns the client of req.
//
// IP: the peer address (req.RemoteAddr, unmapped, zone removed). Only when
// the peer lies inside a trusted prefix is X-Forwarded-For consulted: all
// of its header lines are read as one comma-separated list and walked right
// to left, skipping addresses inside trusted prefixes; the first untrusted
// address is the client. If every entry is trusted, the leftmost is the
// client. An entry that does not parse (empty, "unknown", garbage) stops
// the walk and the last good address seen right of it — a trusted hop, or
// the peer itself — is the client: whatever lies left of an unparsable
// entry may have been written by anyone, so it is never used. The same
// applies past MaxForwardedHops entries. Entries may be bare addresses or
// address:port as some proxies write them. The Forwarded header (RFC 7239)
// is not read. An unparsable RemoteAddr yields the invalid netip.Addr, which
// no IP binding other than "off" accepts.
//
// Device id: the device header's value, trimmed, when the header appears
// exactly once with 1 to MaxDeviceIDLen bytes of printable ASCII; else the
// DeviceCookie's value under the same rule (a browser's random id, set at
// its first browser-group login); otherwise "ua:" followed by the first 32 hex digits of the SHA-256 of the
// User-Agent. Device name: the User-Agent, invalid UTF-8 replaced and
// truncated to MaxDeviceNameLen bytes at a rune boundary.
func (r ClientResolver) Resolve(req *http.Request) domain.ClientInfo {
	ua := req.Header.Get("User-Agent")
	return domain.ClientInfo{
		IP:         r.clientIP(req),
		DeviceID:   r.deviceID(req),
		DeviceName: deviceName(ua),
	}
}

// binding is Resolve without the device name: the IP and device id an
// access token is checked against, all Authenticate needs on every
// request.
func (r ClientResolver) binding(req *http.Request) domain.ClientInfo {
	return domain.ClientInfo{IP: r.clientIP(req), DeviceID: r.deviceID(req)}
}

func (r ClientResolver) clientIP(req *http.Request) netip.Addr {
	peer := parseHost(req.RemoteAddr)
	if !peer.IsValid() || !r.trusted(peer) {
		return peer
	}
	last := peer // the last good address, right of anything unexamined
	hops := 0
	lines := req.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			comma := strings.LastIndexByte(rest, ',')
			if comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			}
			if hops++; hops > MaxForwardedHops {
				return last
			}
			addr := parseHost(strings.TrimSpace(entry))
			if !addr.IsValid() {
				return last
			}
			if !r.trusted(addr) {
				return addr
			}
			last = addr
			if comma < 0 {
				break
			}
		}
	}
	return last
}

// trusted reports whether addr (unmapped, without zone) is a trusted proxy.
func (r ClientResolver) trusted(addr netip.Addr) bool {
	for _, p := range r.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseHost parses "addr", "addr:port", "[v6]" or "[v6]:port" into an
// unmapped address without zone, or returns the invalid Addr. It tries the
// form s has first, so that the common cases (net/http's RemoteAddr is
// always addr:port, X-Forwarded-For entries are bare addresses) parse
// without a failed attempt, whose error allocates.
func parseHost(s string) netip.Addr {
	if s == "" || len(s) > 64 {
		return netip.Addr{}
	}
	var addr netip.Addr
	if s[0] == '[' || strings.Count(s, ":") == 1 {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
				return parseHost(s[1 : len(s)-1])
			}
			return netip.Addr{}
		}
		addr = ap.Addr()
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}
		}
		addr = a
	}
	return addr.Unmap().WithZone("")
}

// canonicalDeviceHeader is DefaultDeviceHeader in the canonical form
// net/http keys headers by, which Header.Values finds without converting.
var canonicalDeviceHeader = http.CanonicalHeaderKey(DefaultDeviceHeader)

// headerDeviceID returns the device header's value when it is a usable
// device id.
func (r ClientResolver) headerDeviceID(req *http.Request) (string, bool) {
	name := r.DeviceHeader
	if name == "" {
		name = canonicalDeviceHeader
	}
	if vals := req.Header.Values(name); len(vals) == 1 {
		if v := strings.TrimSpace(vals[0]); v != "" && len(v) <= MaxDeviceIDLen && printableASCII(v) {
			return v, true
		}
	}
	return "", false
}

func (r ClientResolver) deviceID(req *http.Request) string {
	if v, ok := r.headerDeviceID(req); ok {
		return v
	}
	if v := deviceCookie(req); v != "" {
		return v
	}
	sum := sha256.Sum256([]byte(req.Header.Get("User-Agent")))
	const prefix = "ua:"
	var id [len(prefix) + 32]byte
	copy(id[:], prefix)
	hex.Encode(id[len(prefix):], sum[:16])
	return string(id[:]) // one allocation, not two
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func deviceName(ua string) string {
	name := strings.ToValidUTF8(ua, "\uFFFD")
	if len(name) <= MaxDeviceNameLen {
		return name
	}
	cut := MaxDeviceNameLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes and
// bare IP addresses (a bare address is its own /32 or /128), as found in
// JWTAUTH_TRUSTED_PROXIES. Blank entries are ignored, so "" is no proxy.
// The result is normalised as NormalizePrefixes does. An entry that parses
// as neither is an error wrapping domain.ErrInvalidArgument.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(entry, "/") {
			var err error
			if p, err = netip.ParsePrefix(entry); err != nil {
				return nil, fmt.Errorf("%w: trusted proxy %q is not a CIDR prefix", domain.ErrInvalidArgument, entry)
			}
		} else {
			addr, err := netip.ParseAddr(entry)
			if err != nil {
				return nil, fmt.Errorf("%w: trusted proxy %q is not an IP address", domain.ErrInvalidArgument, entry)
			}
			addr = addr.WithZone("")
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, p)
	}
	return NormalizePrefixes(out)
}

// NormalizePrefixes returns prefixes masked, with IPv4-mapped IPv6
// prefixes (::ffff:a.b.c.d/n, n ≥ 96) turned into their IPv4 form, because
// Resolve compares unmapped addresses. An invalid prefix is an error
// wrapping domain.ErrInvalidArgument.
func NormalizePrefixes(prefixes []netip.Prefix) ([]netip.Prefix, error) {
	if len(prefixes) == 0 {
		return nil, nil
	}
	out := make([]netip.Prefix, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: invalid trusted proxy prefix", domain.ErrInvalidArgument)
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%w: trusted proxy prefix %s mixes IPv4-mapped and IPv6 space", domain.ErrInvalidArgument, p)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
