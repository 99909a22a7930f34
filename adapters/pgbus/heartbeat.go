package pgbus

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// beatPrefix starts every heartbeat payload. Cache keys never start with
// it, so a heartbeat is never mistaken for an invalidation.
const beatPrefix = "pgbus-heartbeat:"

// heartbeats tracks this Bus's heartbeats: the ones sent, and when the
// latest that came back was sent.
type heartbeats struct {
	interval, syncTimeout time.Duration
	prefix                string // beatPrefix + this Bus's random id + ":"

	seq atomic.Uint64 // last sequence number sent
	// proof is when the last heartbeat that came back was sent (Unix
	// nanoseconds; 0: none yet).
	proof atomic.Int64

	mu     sync.Mutex
	sent   map[uint64]int64 // send times of those not back yet
	back   uint64           // highest sequence number that came back
	notify chan struct{}    // closed and replaced whenever back grows
}

func newHeartbeats(interval, syncTimeout time.Duration) *heartbeats {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &heartbeats{
		interval: interval, syncTimeout: syncTimeout,
		prefix: beatPrefix + hex.EncodeToString(id[:]) + ":",
		sent:   map[uint64]int64{}, notify: make(chan struct{}),
	}
}

// fresh reports whether the last proof is younger than twice the
// interval; always true with heartbeats off.
func (h *heartbeats) fresh(now time.Time) bool {
	if h.interval <= 0 {
		return true
	}
	p := h.proof.Load()
	return p != 0 && now.UnixNano()-p < int64(2*h.interval)
}

// next returns the sequence number and payload of a new heartbeat sent
// now.
func (h *heartbeats) next(now time.Time) (uint64, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq := h.seq.Add(1)
	h.sent[seq] = now.UnixNano()
	// Heartbeats lost for good are forgotten after a while.
	for s := range h.sent {
		if s+64 < seq {
			delete(h.sent, s)
		}
	}
	return seq, h.prefix + strconv.FormatUint(seq, 10)
}

// received records a heartbeat payload that came back. It reports
// whether it is one of ours arriving after a gap (the previous proof
// stale): the caller must flush the subscribers, then call confirm. Any
// other of ours is confirmed at once.
func (h *heartbeats) received(payload string, now time.Time) (gap bool) {
	if !strings.HasPrefix(payload, h.prefix) {
		return false
	}
	if p := h.proof.Load(); p != 0 && !h.fresh(now) {
		return true
	}
	h.confirm(payload)
	return false
}

// confirm makes one of our heartbeats the latest proof.
func (h *heartbeats) confirm(payload string) {
	seq, err := strconv.ParseUint(strings.TrimPrefix(payload, h.prefix), 10, 64)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if at, ok := h.sent[seq]; ok {
		delete(h.sent, seq)
		if at > h.proof.Load() {
			h.proof.Store(at)
		}
	}
	if seq > h.back {
		h.back = seq
		close(h.notify)
		h.notify = make(chan struct{})
	}
}

// last returns the highest sequence number that came back.
func (h *heartbeats) last() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.back
}

// echoed returns a channel closed when the next heartbeat comes back.
func (h *heartbeats) echoed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.notify
}
