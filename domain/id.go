package domain

import (
	"crypto/rand"
	"encoding/hex"
)

// NewGeneration returns a random version 4 UUID, the value of a generation.
func NewGeneration() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	return string(AppendUUID(s[:0], b[:]))
}

// AppendUUID appends the canonical text of the 16-byte UUID b
// (8-4-4-4-12 lowercase hex digits) to dst.
func AppendUUID(dst, b []byte) []byte {
	for i, part := range [...][]byte{b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]} {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = hex.AppendEncode(dst, part)
	}
	return dst
}

// NewID returns a random 128-bit identifier for sessions and token ids.
func NewID() string { return rand.Text() }
