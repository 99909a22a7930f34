package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// maxErrorBody bounds how much of a 400 response Transport reads to look
// for the use_dpop_nonce error.
const maxErrorBody = 64 << 10

// Transport is an http.RoundTripper that adds a fresh DPoP proof, signed
// with its key, to every request: htm, htu (the URL without query and
// fragment), iat, a random jti, ath when the request carries
// "Authorization: DPoP <token>", and the last DPoP-Nonce the server at the
// request's origin sent. When the server answers 401 or 400 with the
// use_dpop_nonce error and a new nonce, Transport retries once with it
// (requests with a body only when req.GetBody can replay it). It is safe
// for concurrent use.
type Transport struct {
	// Base carries the requests. Optional. Default http.DefaultTransport.
	Base http.RoundTripper
	// Now is the clock for iat. Optional. Default time.Now.
	Now func() time.Time

	key    crypto.Signer
	method jwt.SigningMethod
	jwk    json.RawMessage // the public key as a JWK, encoded once
	jkt    string

	mu     sync.Mutex
	nonces map[string]string // origin -> last DPoP-Nonce
}

// NewTransport returns a Transport signing with key: an *ecdsa.PrivateKey
// on P-256 (ES256) or an ed25519.PrivateKey (EdDSA). base may be nil.
func NewTransport(key crypto.Signer, base http.RoundTripper) (*Transport, error) {
	t := &Transport{Base: base, key: key, nonces: map[string]string{}}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("dpop: ECDSA keys must be on P-256 (ES256)")
		}
		t.method = jwt.SigningMethodES256
	case ed25519.PrivateKey:
		t.method = jwt.SigningMethodEdDSA
	default:
		return nil, fmt.Errorf("dpop: unsupported key type %T (want *ecdsa.PrivateKey or ed25519.PrivateKey)", key)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: key.Public()})
	if err != nil {
		return nil, fmt.Errorf("dpop: encode the public key: %w", err)
	}
	t.jwk = jwk
	jkt, err := Thumbprint(key.Public())
	if err != nil {
		return nil, err
	}
	t.jkt = jkt
	return t, nil
}

// JKT returns the RFC 7638 thumbprint of the Transport's key: the cnf.jkt
// of tokens bound to it.
func (t *Transport) JKT() string { return t.jkt }

// Proof returns a fresh proof for a request with method and URL, with
// ath for accessToken when it is not empty and the given nonce when it is
// not empty.
func (t *Transport) Proof(method, rawURL, accessToken, nonce string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	return t.proof(method, u, accessToken, nonce)
}

func (t *Transport) proof(method string, u *url.URL, accessToken, nonce string) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	c := jwt.MapClaims{
		"jti": b64.EncodeToString(jti[:]),
		"htm": method,
		"htu": htu.String(),
		"iat": now().Unix(),
	}
	if accessToken != "" {
		c["ath"] = AccessTokenHash(accessToken)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	tok := jwt.NewWithClaims(t.method, c)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = t.jwk
	s, err := tok.SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	return s, nil
}

func origin(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

func (t *Transport) nonce(u *url.URL) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonces[origin(u)]
}

// remember stores the response's DPoP-Nonce, if any, for its origin.
func (t *Transport) remember(u *url.URL, resp *http.Response) {
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		t.mu.Lock()
		t.nonces[origin(u)] = n
		t.mu.Unlock()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var token string
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		token = tok
	}
	send := func(r *http.Request) (*http.Response, string, error) {
		nonce := t.nonce(r.URL)
		proof, err := t.proof(r.Method, r.URL, token, nonce)
		if err != nil {
			return nil, "", err
		}
		r = r.Clone(r.Context())
		r.Header.Set("DPoP", proof)
		resp, err := base.RoundTrip(r)
		return resp, nonce, err
	}
	resp, used, err := send(req)
	if err != nil {
		return nil, err
	}
	t.remember(req.URL, resp)
	// Retry only when the server offers a nonce other than the one this
	// proof carried (another request may have stored it meanwhile).
	if n := resp.Header.Get("DPoP-Nonce"); n == "" || n == used || !useNonce(resp) {
		return resp, nil
	}
	retry := req
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry = req.Clone(req.Context())
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	resp, _, err = send(retry)
	if err == nil {
		t.remember(req.URL, resp)
	}
	return resp, err
}

// useNonce reports whether resp is the use_dpop_nonce error: a 401 whose
// WWW-Authenticate says so, or a 400 whose body does (the token endpoint
// form of RFC 9449 §8). A 400 body it reads is put back.
func useNonce(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if strings.Contains(v, "use_dpop_nonce") {
				return true
			}
		}
	case http.StatusBadRequest:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return bytes.Contains(body, []byte("use_dpop_nonce"))
	}
	return false
}
