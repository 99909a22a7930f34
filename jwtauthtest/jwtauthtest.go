// Package jwtauthtest helps the tests of applications that embed jwtauth:
// a Service on the memory adapters with generated keys and a settable
// clock (Kit), a test configuration with fresh keys for the real backends
// (Config), and helpers that log a user in and authorize requests.
//
// Tokens issued by Kit.Login are bound to Client: 127.0.0.1 and the
// device id DeviceID. A request from an httptest server's client carries
// that IP, and Authorize adds the X-Device-ID header, so the tokens work
// against the application's real routes. PostLogin sends the same header,
// so tokens from the application's own login route work with Authorize
// too.
package jwtauthtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
	"github.com/jwtauth/jwtauth/ports"
)

// DeviceID is the device id of Client, sent by Authorize and PostLogin
// as the X-Device-ID header.
const DeviceID = "jwtauthtest-device"

// Client is the client Kit.Login binds tokens to: what the adapters see of
// a request from an httptest server's client that carries DeviceID.
var Client = domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: DeviceID, DeviceName: "jwtauthtest"}

// LoginResponse is the 200 body of a login (the adapters' Login writes
// it); the same type as httpauth.LoginResponse and echoauth.LoginResponse.
type LoginResponse = httpauth.LoginResponse

// Clock is a settable clock; the zero value is not usable, use NewClock.
// It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Config returns jwtauth.DefaultConfig for tests: JWTAUTH_ENV "test",
// fresh random keys (a 32-byte HS256 signing key and one encryption key),
// and a data dir in t.TempDir(). Set DatabaseURL for PostgreSQL; by
// default jwtauth.OpenBackend opens SQLite in the data dir.
func Config(t testing.TB) jwtauth.Config {
	t.Helper()
	cfg := jwtauth.DefaultConfig()
	cfg.Env = "test"
	cfg.DataDir = t.TempDir()
	cfg.SigningKey = make([]byte, 32)
	_, _ = rand.Read(cfg.SigningKey) // crypto/rand.Read never fails (Go 1.24+).
	k := jwe.GenerateKey("test")
	cfg.EncryptionKeys = []jwtauth.EncryptionKey{{ID: k.ID, Secret: k.Secret}}
	return cfg
}

// Kit is a Service on the memory store, bus and cache, with cfg's keys and
// use-case settings and every clock (service and token codec) on Clock.
type Kit[U any] struct {
	Service *app.Service[U]
	Clock   *Clock
	// Store is the memory store under Service, for assertions.
	Store *memory.Store
}

// New returns a Kit for cfg (use Config(t) and change what the test
// needs; its keys are used, its store settings ignored) and users (nil:
// the zero U, or the token's claims with cfg.UserFromToken). The clock
// starts at the current time, truncated to the second as token times are.
// It fails the test on an invalid configuration.
func New[U any](t testing.TB, cfg jwtauth.Config, users ports.UserLoader[U]) *Kit[U] {
	t.Helper()
	clock := NewClock(time.Now().Truncate(time.Second))
	codecCfg := cfg.CodecConfig() // as the assembly builds it, on the Kit's clock
	codecCfg.Now = clock.Now
	codec, err := jwtcodec.New(codecCfg)
	if err != nil {
		t.Fatalf("jwtauthtest: codec: %v", err)
	}
	cipher, err := jwtauth.ProvideCipher(cfg)
	if err != nil {
		t.Fatalf("jwtauthtest: cipher: %v", err)
	}
	bus := &memory.Bus{}
	store := memory.NewStore(bus)
	appCfg := cfg.AppConfig()
	appCfg.Now = clock.Now
	deps := app.Deps[U]{Store: store, Codec: codec, Cipher: cipher, Bus: bus, Users: users}
	if cfg.Cache {
		deps.Cache = &memory.Cache{}
	}
	svc, err := app.New(appCfg, deps)
	if err != nil {
		t.Fatalf("jwtauthtest: service: %v", err)
	}
	return &Kit[U]{Service: svc, Clock: clock, Store: store}
}

// Login logs userID in with user claims user from Client, as the
// application's login handler would after checking the password, and
// returns the pair. It fails the test on an error.
func (k *Kit[U]) Login(t testing.TB, userID string, user U) app.Pair {
	t.Helper()
	pair, err := k.Service.Login(context.Background(), userID, user, Client)
	if err != nil {
		t.Fatalf("jwtauthtest: login %s: %v", userID, err)
	}
	return pair
}

// LoginDPoP logs userID in as Login does, with the session and its tokens
// bound to a new ES256 DPoP key (RFC 9449), and returns the pair and a
// dpop.Transport holding the key. Send requests through it
// (&http.Client{Transport: tr}), authorized with AuthorizeDPoP: it signs a
// proof for each. The application's adapter must have Config.DPoP set. It
// fails the test on an error.
func (k *Kit[U]) LoginDPoP(t testing.TB, userID string, user U) (app.Pair, *dpop.Transport) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("jwtauthtest: DPoP key: %v", err)
	}
	tr, err := dpop.NewTransport(key, nil)
	if err != nil {
		t.Fatalf("jwtauthtest: DPoP transport: %v", err)
	}
	client := Client
	client.JKT = tr.JKT()
	pair, err := k.Service.Login(context.Background(), userID, user, client)
	if err != nil {
		t.Fatalf("jwtauthtest: login %s: %v", userID, err)
	}
	return pair, tr
}

// AuthorizeDPoP sets r's Authorization header to "DPoP accessToken" and
// its X-Device-ID header to DeviceID, for a token of LoginDPoP sent
// through its Transport, which adds the proof.
func AuthorizeDPoP(r *http.Request, accessToken string) {
	r.Header.Set("Authorization", "DPoP "+accessToken)
	r.Header.Set("X-Device-ID", DeviceID)
}

// Authorize sets r's Authorization header to "Bearer accessToken" and its
// X-Device-ID header to DeviceID, so a token bound to Client is accepted.
func Authorize(r *http.Request, accessToken string) {
	r.Header.Set("Authorization", "Bearer "+accessToken)
	r.Header.Set("X-Device-ID", DeviceID)
}

// PostLogin posts body as JSON to the application's login route url (with
// X-Device-ID DeviceID) through http.DefaultClient, requires a 200 answer
// and returns the decoded login body.
func PostLogin(t testing.TB, url string, body any) LoginResponse {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("jwtauthtest: login body: %v", err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("jwtauthtest: login request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Device-ID", DeviceID)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("jwtauthtest: login: %v", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("jwtauthtest: login: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("jwtauthtest: login: %d %s", res.StatusCode, data)
	}
	var lr LoginResponse
	if err := json.Unmarshal(data, &lr); err != nil || lr.AccessToken == "" {
		t.Fatalf("jwtauthtest: login body %q: %v", data, err)
	}
	return lr
}
