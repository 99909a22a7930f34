package app_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// typed reports whether err wraps one of the sentinels a token check may
// return.
func typed(err error) bool {
	for _, s := range []error{
		domain.ErrMalformed, domain.ErrInvalid, domain.ErrExpired, domain.ErrRevoked,
		domain.ErrWrongTokenType, domain.ErrClientMismatch, domain.ErrRefreshReused,
		domain.ErrInvalidArgument,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzAuthenticate feeds arbitrary strings to the whole token path
// (decrypt, parse, checks) of Authenticate, Verify and Refresh. Keys and
// clock are fixed so that every fuzzing process agrees on the seeds.
func FuzzAuthenticate(f *testing.F) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: []byte(strings.Repeat("s", 32)), Now: clock})
	if err != nil {
		f.Fatal(err)
	}
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: []byte(strings.Repeat("e", 32))})
	if err != nil {
		f.Fatal(err)
	}
	bus := &memory.Bus{}
	svc, err := app.New(app.Config{Now: clock, UserFromToken: true, RotateRefresh: true},
		app.Deps[User]{Store: memory.NewStore(bus), Codec: codec, Cipher: cipher, Cache: &memory.Cache{}, Bus: bus})
	if err != nil {
		f.Fatal(err)
	}
	client := domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop"}
	pair, err := svc.Login(context.Background(), "alice", User{Name: "Alice", Role: "admin"}, client)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		pair.AccessToken, pair.RefreshToken, "", ".", "....", "a.b.c", "a.b.c.d.e",
		pair.AccessToken[:len(pair.AccessToken)/2], pair.AccessToken + ".", "\xff\xfe",
		"eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ctx := context.Background()
		if _, err := svc.Authenticate(ctx, raw, client); err != nil && !typed(err) {
			t.Fatalf("Authenticate: untyped error %v", err)
		}
		if _, err := svc.Verify(ctx, raw, client); err != nil && !typed(err) {
			t.Fatalf("Verify: untyped error %v", err)
		}
		if _, err := svc.Refresh(ctx, raw, client); err != nil && !typed(err) {
			t.Fatalf("Refresh: untyped error %v", err)
		}
	})
}
