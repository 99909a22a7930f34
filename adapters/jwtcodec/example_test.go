package jwtcodec_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/domain"
)

func Example() {
	codec, err := jwtcodec.New(jwtcodec.Config{Key: []byte("example-only-secret-of-32-bytes!")})
	if err != nil {
		panic(err)
	}
	type user struct {
		Name string `json:"name"`
	}
	claims := domain.Claims{
		Subject:    "42",
		Type:       domain.Access,
		SessionID:  "s1",
		Generation: "g1",
		IssuedAt:   time.Now(),
		ExpiresAt:  time.Now().Add(10 * time.Minute),
	}
	token, err := codec.Sign(claims, user{Name: "alice"})
	if err != nil {
		panic(err)
	}

	var u user
	got, err := codec.Parse([]byte(token), &u)
	fmt.Println(got.Subject, got.Type, u.Name, err)

	claims.ExpiresAt = time.Now().Add(-time.Hour)
	expired, _ := codec.Sign(claims, nil)
	_, err = codec.Parse([]byte(expired), nil)
	switch {
	case errors.Is(err, domain.ErrExpired):
		fmt.Println("expired: refresh it")
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrMalformed):
		fmt.Println("rejected")
	}
	// Output:
	// 42 access alice <nil>
	// expired: refresh it
}
