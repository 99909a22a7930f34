package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Profile is an application's own user claims type: whatever it wants to
// know about the user on every request without asking its database.
type Profile struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// ExampleService_Login issues an encrypted token pair for a custom user
// claims type and authenticates the access token, with the in-memory
// store, the golang-jwt codec and the JWE cipher.
func ExampleService_Login() {
	ctx := context.Background()
	// Keys come from your configuration (JWTAUTH_SIGNING_KEY,
	// JWTAUTH_ENCRYPTION_KEYS); fixed here so that the example is
	// reproducible.
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		panic(err)
	}
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		panic(err)
	}
	bus := &memory.Bus{}
	svc, err := app.New(app.Config{UserFromToken: true}, app.Deps[Profile]{
		Store:  memory.NewStore(bus),
		Codec:  codec,
		Cipher: cipher,
		Cache:  &memory.Cache{},
		Bus:    bus,
	})
	if err != nil {
		panic(err)
	}

	// The application checked the password; the transport adapters
	// (echoauth, httpauth) resolve the client from the request.
	laptop := domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop", DeviceName: "Firefox"}
	pair, err := svc.Login(ctx, "42", Profile{Name: "Alice", Role: "admin"}, laptop)
	if err != nil {
		panic(err)
	}
	fmt.Println("JWE parts:", strings.Count(pair.AccessToken, ".")+1)

	p, err := svc.Authenticate(ctx, pair.AccessToken, laptop)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.UserID, p.User.Name, p.User.Role, p.SessionID == pair.SessionID)

	// The same token from another address, or a refresh token presented
	// as an access token, is refused.
	elsewhere := laptop
	elsewhere.IP = netip.MustParseAddr("198.51.100.9")
	for _, try := range []struct {
		token  string
		client domain.ClientInfo
	}{
		{pair.AccessToken, elsewhere},
		{pair.RefreshToken, laptop},
	} {
		_, err := svc.Authenticate(ctx, try.token, try.client)
		switch {
		case errors.Is(err, domain.ErrClientMismatch):
			fmt.Println("refused: bound to another client")
		case errors.Is(err, domain.ErrWrongTokenType):
			fmt.Println("refused: not an access token")
		}
	}
	// Output:
	// JWE parts: 5
	// 42 Alice admin true
	// refused: bound to another client
	// refused: not an access token
}

// ExampleService_Invalidate is d_jwt_auth's story: a user logged in on two
// devices stops being an admin. Rotating the access generation revokes
// every access token of that user at once; the next refresh loads the
// fresh claims through the UserLoader. Nobody is logged out.
func ExampleService_Invalidate() {
	ctx := context.Background()
	// The application's users table.
	accounts := map[string]Profile{"42": {Name: "Alice", Role: "admin"}}

	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		panic(err)
	}
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		panic(err)
	}
	bus := &memory.Bus{}
	svc, err := app.New(app.Config{UserFromToken: true}, app.Deps[Profile]{
		Store:  memory.NewStore(bus),
		Codec:  codec,
		Cipher: cipher,
		Cache:  &memory.Cache{},
		Bus:    bus,
		Users: ports.UserLoaderFunc[Profile](func(_ context.Context, id string) (Profile, error) {
			p, ok := accounts[id]
			if !ok {
				return Profile{}, domain.ErrRevoked // the user was deleted
			}
			return p, nil
		}),
	})
	if err != nil {
		panic(err)
	}

	laptop := domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop"}
	phone := domain.ClientInfo{IP: netip.MustParseAddr("198.51.100.9"), DeviceID: "phone"}
	onLaptop, err := svc.Login(ctx, "42", accounts["42"], laptop)
	if err != nil {
		panic(err)
	}
	onPhone, err := svc.Login(ctx, "42", accounts["42"], phone)
	if err != nil {
		panic(err)
	}

	// The role changes: update the row, then invalidate the access tokens.
	accounts["42"] = Profile{Name: "Alice", Role: "user"}
	if err := svc.Invalidate(ctx, "42", domain.Access); err != nil {
		panic(err)
	}

	for _, old := range []struct {
		token  string
		client domain.ClientInfo
	}{{onLaptop.AccessToken, laptop}, {onPhone.AccessToken, phone}} {
		_, err := svc.Authenticate(ctx, old.token, old.client)
		fmt.Println("old access token revoked:", errors.Is(err, domain.ErrRevoked))
	}

	// The client refreshes as it does on any 401 token_revoked.
	next, err := svc.Refresh(ctx, onLaptop.RefreshToken, laptop)
	if err != nil {
		panic(err)
	}
	p, err := svc.Authenticate(ctx, next.AccessToken, laptop)
	if err != nil {
		panic(err)
	}
	fmt.Println("role after refresh:", p.User.Role)

	sessions, err := svc.Sessions(ctx, "42")
	if err != nil {
		panic(err)
	}
	fmt.Println("sessions still active:", len(sessions))
	// Output:
	// old access token revoked: true
	// old access token revoked: true
	// role after refresh: user
	// sessions still active: 2
}

// Example_memoryStoreInTests shows how an application tests its own code
// against jwtauth without a database: the memory store, a settable clock
// shared by the service and the codec, fixed keys, and no cache, so that
// every check reaches the store and a store that cannot answer (here, a
// cancelled context) is seen.
func Example_memoryStoreInTests() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	codec, err := jwtcodec.New(jwtcodec.Config{Key: bytes.Repeat([]byte{1}, 32), Now: clock})
	if err != nil {
		panic(err)
	}
	svc, err := app.New(app.Config{AccessTTL: 10 * time.Minute, Now: clock}, app.Deps[Profile]{
		Store: memory.NewStore(nil), // nil: no bus, a single instance
		Codec: codec,                // no Cipher: plain signed tokens are fine in tests
		Users: ports.UserLoaderFunc[Profile](func(context.Context, string) (Profile, error) {
			return Profile{Name: "Test User", Role: "user"}, nil
		}),
	})
	if err != nil {
		panic(err)
	}

	client := domain.ClientInfo{IP: netip.MustParseAddr("192.0.2.1"), DeviceID: "test-device"}
	pair, err := svc.Login(ctx, "u1", Profile{}, client)
	if err != nil {
		panic(err)
	}
	fmt.Println("access token valid for", pair.AccessExpiresAt.Sub(now))
	p, err := svc.Authenticate(ctx, pair.AccessToken, client)
	fmt.Println("authenticated:", p.User.Name, err)

	now = now.Add(11 * time.Minute) // move the clock past the access TTL
	_, err = svc.Authenticate(ctx, pair.AccessToken, client)
	fmt.Println("after 11m expired:", errors.Is(err, domain.ErrExpired))
	next, err := svc.Refresh(ctx, pair.RefreshToken, client)
	fmt.Println("refreshed:", err == nil && next.AccessToken != "")

	// A store that cannot answer fails closed: never "valid".
	down, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.Authenticate(down, next.AccessToken, client)
	fmt.Println("store down unavailable:", errors.Is(err, domain.ErrUnavailable))
	// Output:
	// access token valid for 10m0s
	// authenticated: Test User <nil>
	// after 11m expired: true
	// refreshed: true
	// store down unavailable: true
}
