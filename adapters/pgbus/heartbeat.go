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

// controlPrefix starts every payload the Buses send each other: their
// heartbeats, syncs and acknowledgements. Cache keys never start with it,
// and Publish refuses keys that do, so a control payload is never taken
// for an invalidation, nor delivered to subscribers.
//
//	pgbus-beat:<bus id>:<seq>               a heartbeat
//	pgbus-sync:<bus id>:<seq>               a Sync; every other Bus acknowledges it
//	pgbus-ack:<syncing bus id>:<seq>:<bus id>
const controlPrefix = "pgbus-"

const (
	kindBeat = "beat"
	kindSync = "sync"
	kindAck  = "ack"
)

// heartbeats tracks this Bus's heartbeats and syncs, and the other Buses
// on the channel.
type heartbeats struct {
	interval, syncTimeout time.Duration
	id                    string // random, per Bus

	seq atomic.Uint64 // last sequence number sent
	// proof is when the last of our heartbeats that came back was sent
	// (Unix nanoseconds; 0: none yet).
	proof atomic.Int64

	mu      sync.Mutex
	sent    map[uint64]int64        // send times of those not back yet
	back    uint64                  // highest sequence number that came back
	peers   map[string]int64        // other Buses: when last heard of (Unix ns)
	pending map[uint64]*pendingSync // syncs under way
	notify  chan struct{}           // closed and replaced on every change above
}

func newHeartbeats(interval, syncTimeout time.Duration) *heartbeats {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &heartbeats{
		interval: interval, syncTimeout: syncTimeout, id: hex.EncodeToString(id[:]),
		sent: map[uint64]int64{}, peers: map[string]int64{}, pending: map[uint64]*pendingSync{},
		notify: make(chan struct{}),
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

// next returns the sequence number and payload of a new heartbeat or
// sync sent now. A sync waits for the acknowledgement of every other Bus
// heard of within twice the interval.
func (h *heartbeats) next(kind string, now time.Time) (uint64, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq := h.seq.Add(1)
	h.sent[seq] = now.UnixNano()
	for s := range h.sent { // lost for good
		if s+64 < seq {
			delete(h.sent, s)
		}
	}
	if kind == kindSync {
		p := &pendingSync{at: now, acked: map[string]bool{}}
		for id := range h.peers {
			if h.livePeer(id, now) {
				p.acked[id] = false
			}
		}
		h.pending[seq] = p
	}
	return seq, controlPrefix + kind + ":" + h.id + ":" + strconv.FormatUint(seq, 10)
}

// pendingSync is a sync under way: when it was sent, and which Buses
// acknowledged it.
type pendingSync struct {
	at    time.Time
	acked map[string]bool
}

// livePeer reports whether the Bus id was heard of within twice the
// interval. h.mu must be held.
func (h *heartbeats) livePeer(id string, now time.Time) bool {
	at, ok := h.peers[id]
	if !ok {
		return false
	}
	if now.UnixNano()-at >= int64(2*h.interval) {
		delete(h.peers, id)
		return false
	}
	return true
}

// control is a parsed control payload.
type control struct {
	kind, from string
	seq        uint64
	acker      string // kindAck
}

func parseControl(payload string) (control, bool) {
	f := strings.Split(strings.TrimPrefix(payload, controlPrefix), ":")
	if len(f) < 3 {
		return control{}, false
	}
	seq, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return control{}, false
	}
	c := control{kind: f[0], from: f[1], seq: seq}
	switch {
	case (c.kind == kindBeat || c.kind == kindSync) && len(f) == 3:
	case c.kind == kindAck && len(f) == 4:
		c.acker = f[3]
	default:
		return control{}, false
	}
	return c, true
}

// ours reports whether c is one of our heartbeats or syncs coming back.
func (h *heartbeats) ours(c control) bool {
	return c.from == h.id && c.kind != kindAck
}

// gap reports whether the previous proof is stale: coming back after a
// gap, the subscribers must be flushed before confirm.
func (h *heartbeats) gap(now time.Time) bool {
	return h.proof.Load() != 0 && !h.fresh(now)
}

// heard records what c tells about the other Buses: they are alive, and
// an acknowledgement of one of our syncs.
func (h *heartbeats) heard(c control, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.interval > 0 {
		switch {
		case c.kind == kindAck && c.acker != h.id:
			h.peers[c.acker] = now.UnixNano()
		case c.kind != kindAck && c.from != h.id:
			h.peers[c.from] = now.UnixNano()
		}
	}
	if c.kind == kindAck && c.from == h.id {
		if p, ok := h.pending[c.seq]; ok {
			if _, ok := p.acked[c.acker]; ok {
				p.acked[c.acker] = true
				h.changed()
			}
		}
	}
}

// confirm records that our heartbeat or sync seq came back: it is the
// latest proof.
func (h *heartbeats) confirm(seq uint64) {
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
		h.changed()
	}
}

// changed wakes the waiters. h.mu must be held.
func (h *heartbeats) changed() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// synced reports whether sync seq came back and every Bus it waits for
// acknowledged it, and returns a channel closed at the next change.
//
// A Bus that has not acknowledged within twice the interval is excused:
// it acknowledges only after delivering everything received before the
// sync, so either it has applied the invalidations before the sync (its
// acknowledgement is merely slow), or it has not received the sync, nor
// any of its own heartbeats sent after it, and then it is bypassing its
// cache (its last proof is older than twice the interval).
func (h *heartbeats) synced(seq uint64, now time.Time) (bool, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.back < seq {
		return false, h.notify
	}
	p := h.pending[seq]
	if p == nil || now.Sub(p.at) >= 2*h.interval {
		return true, h.notify
	}
	for _, acked := range p.acked {
		if !acked {
			return false, h.notify
		}
	}
	return true, h.notify
}

// done forgets sync seq.
func (h *heartbeats) done(seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.pending, seq)
}

// echoed returns a channel closed at the next change.
func (h *heartbeats) echoed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.notify
}
