package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jwtauth/jwtauth/dpop"
)

// A client signs every request with its own key through dpop.Transport;
// the server checks each proof and learns the key's thumbprint, the jkt
// that tokens are bound to.
func ExampleTransport() {
	v, err := dpop.New(dpop.Config{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.ValidateRequest(r, "")
		if errors.Is(err, dpop.ErrInvalidProof) {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof", algs="`+v.Algorithms()+`"`)
			http.Error(w, "invalid DPoP proof", http.StatusUnauthorized)
			return
		}
		_, _ = fmt.Fprint(w, p.JKT)
	}))
	defer srv.Close()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tr, err := dpop.NewTransport(key, nil)
	if err != nil {
		panic(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/hello")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)

	// Without a proof the server refuses.
	plain, err := http.Get(srv.URL + "/hello")
	if err != nil {
		panic(err)
	}
	defer plain.Body.Close()
	fmt.Println(plain.Status, plain.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 OK
	// 401 Unauthorized DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"
}

// Validate returns typed errors: switch on them with errors.Is.
func ExampleValidator_Validate() {
	v, err := dpop.New(dpop.Config{})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "http://127.0.0.1/resource", nil)
	r.Header.Set("DPoP", "not-a-proof")
	_, err = v.ValidateRequest(r, "")
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		fmt.Println("retry with DPoP-Nonce:", v.Nonce())
	case errors.Is(err, dpop.ErrMalformed):
		fmt.Println("malformed:", errors.Is(err, dpop.ErrInvalidProof))
	}
	// Output:
	// malformed: true
}
