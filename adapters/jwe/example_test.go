package jwe_test

import (
	"fmt"

	"github.com/jwtauth/jwtauth/adapters/jwe"
)

func Example() {
	// In production the ring comes from ParseKeys(os.Getenv("JWTAUTH_ENCRYPTION_KEYS")).
	old := jwe.GenerateKey("2024-01")
	c, err := jwe.New(old)
	if err != nil {
		panic(err)
	}
	token, err := c.Encrypt([]byte("header.payload.signature"))
	if err != nil {
		panic(err)
	}

	// Rotate: the new key encrypts from now on, the old one still decrypts.
	rotated, err := jwe.New(jwe.GenerateKey("2025-01"), old)
	if err != nil {
		panic(err)
	}
	plaintext, err := rotated.Decrypt(token)
	fmt.Println(string(plaintext), err)
	// Output: header.payload.signature <nil>
}
