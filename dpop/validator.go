package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Defaults of Config.
const (
	// DefaultMaxAge is how old a proof's iat may be.
	DefaultMaxAge = 60 * time.Second
	// DefaultSkew is how far ahead of the server's clock iat may be.
	DefaultSkew = 5 * time.Second
	// NoSkew, as Config.Skew, allows no iat ahead of the server's clock
	// (a zero Skew means DefaultSkew).
	NoSkew time.Duration = -1
	// DefaultMaxProofSize bounds the DPoP header, in bytes. An ES256 proof
	// with ath and nonce is about 700 bytes, a 4096-bit RSA one about 1900.
	DefaultMaxProofSize = 4096
	// DefaultReplayCacheSize bounds the replay cache, in proofs: at the
	// default window of 65 s it holds about 1500 proofs a second.
	DefaultReplayCacheSize = 100_000
	// DefaultNonceLifetime is how long a server nonce is accepted.
	DefaultNonceLifetime = 5 * time.Minute
)

// DefaultAlgorithms are the proof algorithms accepted when
// Config.Algorithms is empty.
var DefaultAlgorithms = []string{"ES256", "EdDSA"}

// keyFits reports whether a public key may verify proofs of an algorithm.
// It lists every algorithm Config.Algorithms may name: asymmetric only.
var keyFits = map[string]func(crypto.PublicKey) bool{
	"ES256":   ecCurve(elliptic.P256()),
	"ES384":   ecCurve(elliptic.P384()),
	"ES512":   ecCurve(elliptic.P521()),
	"EdDSA":   ed25519Key,
	"Ed25519": ed25519Key,
	"RS256":   rsaKey, "RS384": rsaKey, "RS512": rsaKey,
	"PS256": rsaKey, "PS384": rsaKey, "PS512": rsaKey,
}

func ecCurve(c elliptic.Curve) func(crypto.PublicKey) bool {
	return func(k crypto.PublicKey) bool {
		pk, ok := k.(*ecdsa.PublicKey)
		return ok && pk.Curve == c
	}
}

func ed25519Key(k crypto.PublicKey) bool { _, ok := k.(ed25519.PublicKey); return ok }

// signingMethod returns golang-jwt's method for a proof algorithm.
// "Ed25519" is the fully-specified name (RFC 9864) of EdDSA with an
// Ed25519 key, which some clients (npm dpop 2.x) send.
func signingMethod(alg string) jwt.SigningMethod {
	if alg == "Ed25519" {
		return jwt.SigningMethodEdDSA
	}
	return jwt.GetSigningMethod(alg)
}

func rsaKey(k crypto.PublicKey) bool {
	pk, ok := k.(*rsa.PublicKey)
	return ok && pk.N.BitLen() >= 2048
}

// Config configures a Validator. The zero value is usable: every field is
// optional.
type Config struct {
	// Algorithms are the accepted proof algorithms, from ES256, ES384,
	// ES512, EdDSA, Ed25519, RS256, RS384, RS512, PS256, PS384, PS512
	// ("none" and HS* are refused by New). EdDSA accepts proofs whose alg
	// is its fully-specified name Ed25519 (RFC 9864) too, as npm dpop 2.x
	// sends. Optional. Default DefaultAlgorithms.
	Algorithms []string
	// MaxAge is how old a proof's iat may be. Optional. Default
	// DefaultMaxAge.
	MaxAge time.Duration
	// Skew is how far ahead of the server's clock iat may be. Optional.
	// Default DefaultSkew; NoSkew for none.
	Skew time.Duration
	// MaxProofSize bounds the proof, in bytes. Optional. Default
	// DefaultMaxProofSize.
	MaxProofSize int
	// PublicURL is the external base URL (scheme, host, optional port and
	// path prefix) the server is reached at behind proxies, as in
	// JWTAUTH_PUBLIC_URL. ValidateRequest then expects htu to be this URL
	// with the request path appended, instead of the URL the request
	// arrived at. Optional. Default: from the request.
	PublicURL string
	// ReplayCacheSize bounds the replay cache, in proofs. Optional.
	// Default DefaultReplayCacheSize.
	ReplayCacheSize int
	// NonceKey, when set, makes nonces required (RFC 9449 §8): a proof
	// must carry a nonce made by Validator.Nonce with the same key, on any
	// instance, no older than NonceLifetime. At least 32 bytes; New copies
	// it. Optional. Default: no nonces.
	NonceKey []byte
	// NonceLifetime is how long a nonce is accepted. Optional. Default
	// DefaultNonceLifetime.
	NonceLifetime time.Duration
	// Now is the clock. Optional. Default time.Now.
	Now func() time.Time
}

// Validator checks DPoP proofs. It is safe for concurrent use.
type Validator struct {
	algs      map[string]func(crypto.PublicKey) bool
	algList   string
	maxAge    time.Duration
	skew      time.Duration
	maxSize   int
	publicURL *url.URL
	replay    *replayCache
	keys      *keyCache
	nonces    *nonces
	now       func() time.Time
}

// New validates cfg and returns a Validator.
func New(cfg Config) (*Validator, error) {
	v := &Validator{
		algs:    map[string]func(crypto.PublicKey) bool{},
		maxAge:  orDefault(cfg.MaxAge, DefaultMaxAge),
		skew:    max(orDefault(cfg.Skew, DefaultSkew), 0),
		maxSize: orDefault(cfg.MaxProofSize, DefaultMaxProofSize),
		now:     cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if cfg.MaxAge < 0 || (cfg.Skew < 0 && cfg.Skew != NoSkew) || cfg.MaxProofSize < 0 || cfg.ReplayCacheSize < 0 || cfg.NonceLifetime < 0 {
		return nil, errors.New("dpop: negative duration or size in Config")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = slices.Clone(DefaultAlgorithms)
	}
	for _, a := range algs {
		fits, ok := keyFits[a]
		if !ok {
			return nil, fmt.Errorf("dpop: algorithm %q is not an asymmetric JWS algorithm", a)
		}
		v.algs[a] = fits
		if a == "EdDSA" {
			v.algs["Ed25519"] = fits
		}
	}
	v.algList = strings.Join(algs, " ")
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("dpop: PublicURL %q is not an http(s) base URL without query, fragment or user", cfg.PublicURL)
		}
		v.publicURL = u
	}
	// A proof is remembered until its iat leaves the window.
	v.replay = newReplayCache(orDefault(cfg.ReplayCacheSize, DefaultReplayCacheSize), v.maxAge+v.skew)
	v.keys = newKeyCache()
	if cfg.NonceKey != nil {
		n, err := newNonces(cfg.NonceKey, orDefault(cfg.NonceLifetime, DefaultNonceLifetime), v.skew)
		if err != nil {
			return nil, err
		}
		v.nonces = n
	}
	return v, nil
}

func orDefault[T time.Duration | int](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Algorithms returns the accepted algorithms, space-separated, as the
// algs parameter of WWW-Authenticate: DPoP wants them.
func (v *Validator) Algorithms() string { return v.algList }

// NoncesRequired reports whether proofs must carry a server nonce.
func (v *Validator) NoncesRequired() bool { return v.nonces != nil }

// Nonce returns a fresh server nonce for the DPoP-Nonce response header,
// or "" when nonces are not configured. Every Validator with the same
// NonceKey accepts it for NonceLifetime.
func (v *Validator) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.issue(v.now())
}

// Proof is a validated proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url without padding: the cnf.jkt a token is bound to.
	JKT string
	// Algorithm is the proof's alg.
	Algorithm string
	// JTI is the proof's unique identifier.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Key is the proof's public key. It is shared with every other proof
	// carrying the same jwk: do not modify it.
	Key crypto.PublicKey
}

// ProofFromHeader returns the request's single DPoP header. None, more
// than one, or an empty one is ErrMissingProof.
func ProofFromHeader(h http.Header) (string, error) {
	vals := h.Values("DPoP")
	if len(vals) != 1 || vals[0] == "" {
		return "", ErrMissingProof
	}
	return vals[0], nil
}

// ValidateRequest validates the request's DPoP header against its method
// and URL: Config.PublicURL with the request path when set, otherwise
// the scheme (https when r.TLS is set), r.Host and the path the request
// arrived with. accessToken is the token of an "Authorization: DPoP"
// header, "" for requests that carry none (a login).
func (v *Validator) ValidateRequest(r *http.Request, accessToken string) (Proof, error) {
	proof, err := ProofFromHeader(r.Header)
	if err != nil {
		return Proof{}, err
	}
	return v.Validate(proof, r.Method, v.RequestURL(r), accessToken)
}

// CheckRequest is ValidateRequest without remembering the proof (see
// Check and Spend).
func (v *Validator) CheckRequest(r *http.Request, accessToken string) (Proof, error) {
	proof, err := ProofFromHeader(r.Header)
	if err != nil {
		return Proof{}, err
	}
	return v.Check(proof, r.Method, v.RequestURL(r), accessToken)
}

// RequestURL returns the URL htu must match for r (see ValidateRequest).
// The path is the one the request arrived with (r.RequestURI on a server
// request), so that a router that rewrites r.URL.Path, as
// http.StripPrefix does, does not change it.
func (v *Validator) RequestURL(r *http.Request) *url.URL {
	path := r.URL
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			path = u
		}
	}
	if v.publicURL != nil {
		u := *v.publicURL
		base := strings.TrimSuffix(u.EscapedPath(), "/")
		u.Path = strings.TrimSuffix(u.Path, "/") + path.Path
		u.RawPath = base + path.EscapedPath()
		return &u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: path.Path, RawPath: path.RawPath}
}

var b64 = base64.RawURLEncoding.Strict()

// header is the protected header of a proof.
type header struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
}

// privateMembers are the JWK members of private and symmetric keys
// (RFC 7518 §6.2.2, §6.3.2, §6.4, RFC 8037 §2).
type privateMembers struct {
	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	Oth json.RawMessage `json:"oth"`
	K   json.RawMessage `json:"k"`
}

func (p privateMembers) any() bool {
	return p.D != nil || p.P != nil || p.Q != nil || p.DP != nil || p.DQ != nil || p.QI != nil || p.Oth != nil || p.K != nil
}

// claims are the proof's claims (RFC 9449 §4.2).
type claims struct {
	JTI   string          `json:"jti"`
	HTM   string          `json:"htm"`
	HTU   string          `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   *string         `json:"ath"`
	Nonce *string         `json:"nonce"`
}

// Validate checks proof against the request's method and URL (query and
// fragment are ignored) and, when accessToken is not empty, requires ath
// to be its hash. It remembers the proof's jti, so that the same proof is
// accepted once within the window. Every error matches ErrInvalidProof,
// except ErrUseNonce and ErrCacheFull. It is Check followed by Spend.
func (v *Validator) Validate(proof, method string, target *url.URL, accessToken string) (Proof, error) {
	p, err := v.Check(proof, method, target, accessToken)
	if err != nil {
		return Proof{}, err
	}
	if err := v.Spend(p); err != nil {
		return Proof{}, err
	}
	return p, nil
}

// Spend remembers a proof Check accepted, so that it is accepted once
// within the window: it fails with ErrReplay when the proof was spent
// before, and with ErrCacheFull when the replay cache has no room. A
// server that checks the proof before it knows whether the request is
// authorized (a resource request's token, a refresh token) spends it only
// once the request is, so that requests it refuses take no room in the
// bounded cache: otherwise anyone with a key of their own could fill it
// with proofs for made-up tokens and have every proof refused.
func (v *Validator) Spend(p Proof) error {
	if p.JKT == "" || p.JTI == "" {
		return ErrMissingClaim
	}
	return v.replay.add(p.JKT, p.JTI, v.now())
}

// Check is Validate without remembering the proof: every check but
// replay. Call Spend before acting on the request.
func (v *Validator) Check(proof, method string, target *url.URL, accessToken string) (Proof, error) {
	if proof == "" {
		return Proof{}, ErrMissingProof
	}
	if len(proof) > v.maxSize {
		return Proof{}, ErrTooLarge
	}
	h64, rest, ok1 := strings.Cut(proof, ".")
	c64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return Proof{}, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	var hdr header
	if err := decodeSegment(h64, &hdr); err != nil {
		return Proof{}, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if hdr.Typ != "dpop+jwt" {
		return Proof{}, ErrType
	}
	fits, ok := v.algs[hdr.Alg]
	if !ok {
		return Proof{}, fmt.Errorf("%w: %q", ErrAlgorithm, hdr.Alg)
	}
	if hdr.Crit != nil {
		return Proof{}, fmt.Errorf("%w: crit header not understood", ErrMalformed)
	}
	key, jkt, err := v.publicKey(hdr.JWK, fits)
	if err != nil {
		return Proof{}, err
	}
	sig, err := b64.DecodeString(s64)
	if err != nil {
		return Proof{}, fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	if err := signingMethod(hdr.Alg).Verify(proof[:len(h64)+1+len(c64)], sig, key); err != nil {
		return Proof{}, ErrSignature
	}
	var c claims
	if err := decodeSegment(c64, &c); err != nil {
		return Proof{}, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if c.JTI == "" || c.HTM == "" || c.HTU == "" || c.IAT == nil {
		return Proof{}, ErrMissingClaim
	}
	if c.HTM != method {
		return Proof{}, ErrMethod
	}
	if !sameURL(c.HTU, target) {
		return Proof{}, ErrURL
	}
	iat, err := numericDate(c.IAT)
	if err != nil {
		return Proof{}, err
	}
	now := v.now()
	if age := now.Sub(iat); age > v.maxAge || age < -v.skew {
		return Proof{}, fmt.Errorf("%w: issued %s ago", ErrIssuedAt, age.Round(time.Second))
	}
	if accessToken != "" {
		if c.ATH == nil || !athMatches(*c.ATH, accessToken) {
			return Proof{}, ErrAccessTokenHash
		}
	}
	if v.nonces != nil && (c.Nonce == nil || !v.nonces.valid(*c.Nonce, now)) {
		return Proof{}, ErrUseNonce
	}
	return Proof{JKT: jkt, Algorithm: hdr.Alg, JTI: c.JTI, IssuedAt: iat, Key: key}, nil
}

// numericDate parses a JSON number of seconds since the epoch (RFC 7519
// §2); a string is not one.
func numericDate(raw json.RawMessage) (time.Time, error) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, fmt.Errorf("%w: iat is not a NumericDate", ErrMalformed)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// decodeSegment base64url-decodes a JWS segment and unmarshals the JSON
// object in it.
func decodeSegment(seg string, v any) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(raw, v)
}

// publicKey returns the key of the jwk header and its RFC 7638
// thumbprint, from the key cache when the same bytes were parsed before,
// and checks that the key fits the proof's algorithm.
func (v *Validator) publicKey(raw json.RawMessage, fits func(crypto.PublicKey) bool) (crypto.PublicKey, string, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", fmt.Errorf("%w: no jwk object in the header", ErrKey)
	}
	id := sha256.Sum256(raw)
	k, ok := v.keys.get(id)
	if !ok {
		var err error
		if k, err = parseKey(raw); err != nil {
			return nil, "", err
		}
		v.keys.put(id, k)
	}
	if !fits(k.key) {
		return nil, "", fmt.Errorf("%w: key type does not fit the algorithm", ErrKey)
	}
	return k.key, k.jkt, nil
}

// parseKey parses a jwk object with go-jose: a valid public key, without
// private or symmetric members, and its thumbprint.
func parseKey(raw json.RawMessage) (parsedKey, error) {
	var priv privateMembers
	if err := json.Unmarshal(raw, &priv); err != nil {
		return parsedKey{}, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if priv.any() {
		return parsedKey{}, fmt.Errorf("%w: private or symmetric key members", ErrKey)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return parsedKey{}, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return parsedKey{}, fmt.Errorf("%w: not a valid public key", ErrKey)
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return parsedKey{}, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return parsedKey{key: jwk.Key, jkt: b64.EncodeToString(tp)}, nil
}

// AccessTokenHash returns the ath of an access token:
// base64url(SHA-256(token)) without padding (RFC 9449 §4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url without padding: the jkt of proofs it signs.
func Thumbprint(key crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: key}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return b64.EncodeToString(tp), nil
}

// athMatches reports whether ath is AccessTokenHash(token), comparing
// the decoded hash in constant time. The strict decoding of 43
// characters into 32 bytes has one preimage, the canonical encoding (a
// CR or LF, which base64 skips, leaves fewer than 32 bytes).
func athMatches(ath, token string) bool {
	var got [sha256.Size]byte
	if len(ath) != b64.EncodedLen(sha256.Size) {
		return false
	}
	n, err := b64.Decode(got[:], []byte(ath))
	want := sha256.Sum256([]byte(token))
	return err == nil && n == sha256.Size && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
