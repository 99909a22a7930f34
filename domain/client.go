package domain

import (
	"fmt"
	"net/netip"
)

// ClientInfo describes the client presenting or receiving a token.
type ClientInfo struct {
	IP         netip.Addr
	DeviceID   string
	DeviceName string
	// JKT is the RFC 7638 thumbprint of the DPoP key (RFC 9449) whose
	// possession the request proved with a valid proof; empty when it
	// proved none. A login binds the new session and its tokens to it; a
	// bound token is accepted only from a request proving the same key.
	JKT string
}

// IPBinding says how strictly an access token is tied to its client IP.
type IPBinding string

// The IP binding modes.
const (
	// IPStrict requires the exact same address (default).
	IPStrict IPBinding = "strict"
	// IPSubnet requires the same /24 (IPv4) or /64 (IPv6), so a token
	// survives carrier-grade NAT moves.
	IPSubnet IPBinding = "subnet"
	// IPOff disables IP binding.
	IPOff IPBinding = "off"
)

// ParseIPBinding returns the IPBinding named s, or ErrInvalidArgument.
func ParseIPBinding(s string) (IPBinding, error) {
	switch IPBinding(s) {
	case IPStrict, IPSubnet, IPOff:
		return IPBinding(s), nil
	}
	return "", fmt.Errorf("%w: ip binding %q (want strict, subnet or off)", ErrInvalidArgument, s)
}

// Allows reports whether a token bound to bound may be used from actual.
// An invalid address never matches unless the binding is off.
func (b IPBinding) Allows(bound, actual netip.Addr) bool {
	if b == IPOff {
		return true
	}
	if !bound.IsValid() || !actual.IsValid() {
		return false
	}
	bound, actual = bound.Unmap(), actual.Unmap()
	if b == IPSubnet {
		if bound.Is4() != actual.Is4() {
			return false
		}
		bits := 64
		if bound.Is4() {
			bits = 24
		}
		p, err := bound.Prefix(bits)
		return err == nil && p.Contains(actual)
	}
	return bound == actual
}
