package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tcpProxy forwards TCP connections from a loopback port to a target (the
// PostgreSQL server) and can cut the link: Cut resets every open
// connection and resets new ones at once, as a crashed database or a
// refusing host would; Stall keeps every connection open but drops what
// goes through, as a black-holed network or a frozen server would;
// Restore lets everything through again. Pause holds every byte back
// (nothing is lost: a frozen database, a congested link); PauseListeners
// does so only on connections that sent LISTEN (the invalidation bus's).
type tcpProxy struct {
	ln     net.Listener
	target string

	stalled atomic.Bool

	pauseMu         sync.Mutex
	pauseCond       *sync.Cond
	paused          bool // everything
	pausedListeners bool // connections that sent LISTEN

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup

	forwarded atomic.Int64 // connections forwarded
	refused   atomic.Int64 // connections reset while down
	severed   atomic.Int64 // open connections reset by Cut
}

// startTCPProxy listens on 127.0.0.1:0 and forwards to target until the
// test ends.
func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.pauseCond = sync.NewCond(&p.pauseMu)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Cut resets every forwarded connection (both sides) and makes the proxy
// reset new connections until Restore.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		reset(c)
		p.severed.Add(1)
	}
	clear(p.conns)
}

// Stall drops, from now until Restore, every byte sent either way, on
// open and new connections alike, without closing anything.
func (p *tcpProxy) Stall() { p.stalled.Store(true) }

// Restore forwards new connections and bytes again. Bytes dropped while
// stalled are lost.
func (p *tcpProxy) Restore() {
	p.stalled.Store(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// Pause holds back every byte either way, on open and new connections,
// until Resume, which delivers them.
func (p *tcpProxy) Pause() { p.setPause(func() { p.paused = true }) }

// PauseListeners holds back what the server sends on connections that
// sent LISTEN, until Resume.
func (p *tcpProxy) PauseListeners() { p.setPause(func() { p.pausedListeners = true }) }

// Resume delivers what was held back and lets bytes flow again.
func (p *tcpProxy) Resume() { p.setPause(func() { p.paused, p.pausedListeners = false, false }) }

func (p *tcpProxy) setPause(fn func()) {
	p.pauseMu.Lock()
	fn()
	p.pauseMu.Unlock()
	p.pauseCond.Broadcast()
}

// hold blocks while bytes of this direction must be held back.
func (p *tcpProxy) hold(listener *atomic.Bool, toClient bool) {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	for p.paused || (toClient && p.pausedListeners && listener.Load()) {
		p.pauseCond.Wait()
	}
}

func (p *tcpProxy) close() {
	p.Resume()
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// track registers c unless the proxy is down.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		_ = c.Close()
	}
}

func (p *tcpProxy) forward(down net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		p.untrack(down)
		return
	}
	if !p.track(up) { // cut while dialing
		reset(up)
		p.untrack(down)
		return
	}
	p.forwarded.Add(1)
	done := make(chan struct{}, 2)
	var listener atomic.Bool // the client sent LISTEN on it
	go func() { p.copy(up, down, &listener, false); done <- struct{}{} }()
	go func() { p.copy(down, up, &listener, true); done <- struct{}{} }()
	<-done
	p.untrack(down, up)
	<-done
}

// copy forwards src to dst until either fails, dropping what it reads
// while the proxy is stalled and holding it while paused. Client bytes
// holding LISTEN mark the connection as a listener's.
func (p *tcpProxy) copy(dst, src net.Conn, listener *atomic.Bool, toClient bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !toClient && bytes.Contains(buf[:n], []byte("LISTEN ")) {
			listener.Store(true)
		}
		if n > 0 {
			p.hold(listener, toClient)
		}
		if n > 0 && !p.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// reset closes c with an RST rather than a FIN, so the peer fails at once.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// rawResp is a response read without the contract checks of client.do,
// for answers produced by net/http itself (431, 400 on malformed headers).
type rawResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// rawRequest writes raw bytes as a request to the instance from the
// local address from ("" default) and reads one response.
func (s *instance) rawRequest(t *testing.T, from, raw string) rawResp {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+s.Port)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(15*time.Second)))
	// The server may answer and close before it read everything (431):
	// a failed write is fine as long as a response comes back.
	go func() { _, _ = io.WriteString(conn, raw) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "reading the response")
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		require.NoError(t, err)
	}
	return rawResp{Status: res.StatusCode, Header: res.Header, Body: bytes.TrimSpace(body)}
}
