package jwtcodec

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var _ ports.TokenCodec = (*Codec)(nil)

// MaxTokenSize is the largest token Parse accepts, in bytes.
const MaxTokenSize = domain.MaxTokenLen

// DefaultLeeway is the clock skew tolerated on nbf and iat when
// Config.Leeway is zero. exp has no leeway.
const DefaultLeeway = 5 * time.Second

// b64 is the JWS segment encoding. Strict decoding rejects non-zero padding
// bits, so that every segment has exactly one accepted spelling.
var b64 = base64.RawURLEncoding.Strict()

// hmacMethods are the allowed HMAC signing methods by name.
var hmacMethods = map[string]*jwt.SigningMethodHMAC{
	"HS256": jwt.SigningMethodHS256,
	"HS384": jwt.SigningMethodHS384,
	"HS512": jwt.SigningMethodHS512,
}

// Config configures a Codec.
type Config struct {
	// Method is the signing algorithm: "HS256", "HS384", "HS512" or
	// "EdDSA". Parse accepts tokens of this algorithm only.
	// Optional. Default "HS256".
	Method string
	// Key is the HMAC secret of the HS* methods, at least as long as the
	// hash output (RFC 7518 §3.2): 32 bytes for HS256, 48 for HS384, 64 for
	// HS512. Required for HS*; ignored for EdDSA. New copies it.
	Key []byte
	// EdPrivate is the EdDSA signing key. Optional: without it the codec
	// is verify-only and Sign fails.
	EdPrivate ed25519.PrivateKey
	// EdPublic is the EdDSA verification key. Optional when EdPrivate is
	// set (it is derived from it; if both are set they must match).
	EdPublic ed25519.PublicKey
	// Issuer, when set, is written as "iss" on tokens whose claims carry
	// none, and Parse requires it. Optional. Default: not checked.
	Issuer string
	// Audience, when set, is written as "aud" on tokens whose claims carry
	// none, and Parse requires a token audience to contain one of its
	// values. Optional. Default: not checked.
	Audience []string
	// Leeway is the clock skew between instances tolerated on nbf and iat.
	// exp gets none: a token is expired from its exp second on, exactly
	// as the client was told by expires_in. Optional. Default
	// DefaultLeeway (5s); must not be negative.
	Leeway time.Duration
	// Now is the clock. Optional. Default time.Now.
	Now func() time.Time
}

// Codec signs and parses jwtauth tokens. It is safe for concurrent use.
type Codec struct {
	method    jwt.SigningMethod
	signKey   any // nil: verify-only
	verifyKey any
	header    string // base64url of the protected header Sign writes
	issuer    string
	audience  []string
	validator *jwt.Validator
	leeway    time.Duration
	now       func() time.Time
	macs      *sync.Pool // of *macState; nil for EdDSA
}

// New returns a Codec for cfg, or an error wrapping
// domain.ErrInvalidArgument when cfg is unusable. Errors never contain key
// material.
func New(cfg Config) (*Codec, error) {
	if cfg.Method == "" {
		cfg.Method = "HS256"
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("%w: jwtcodec: negative leeway", domain.ErrInvalidArgument)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Codec{issuer: cfg.Issuer, audience: slices.Clone(cfg.Audience), leeway: cfg.Leeway, now: cfg.Now}
	switch cfg.Method {
	case "HS256", "HS384", "HS512":
		m := hmacMethods[cfg.Method]
		if minLen := m.Hash.Size(); len(cfg.Key) < minLen {
			return nil, fmt.Errorf("%w: jwtcodec: %s key must be at least %d bytes, got %d",
				domain.ErrInvalidArgument, cfg.Method, minLen, len(cfg.Key))
		}
		key := bytes.Clone(cfg.Key)
		c.method, c.signKey, c.verifyKey = m, key, key
		c.macs = &sync.Pool{New: func() any {
			return &macState{h: hmac.New(m.Hash.New, key), sum: make([]byte, 0, m.Hash.Size())}
		}}
	case "EdDSA":
		pub := cfg.EdPublic
		if cfg.EdPrivate != nil {
			if len(cfg.EdPrivate) != ed25519.PrivateKeySize {
				return nil, fmt.Errorf("%w: jwtcodec: EdDSA private key must be %d bytes, got %d",
					domain.ErrInvalidArgument, ed25519.PrivateKeySize, len(cfg.EdPrivate))
			}
			derived := cfg.EdPrivate.Public().(ed25519.PublicKey)
			if pub != nil && !derived.Equal(pub) {
				return nil, fmt.Errorf("%w: jwtcodec: EdDSA public key does not match the private key",
					domain.ErrInvalidArgument)
			}
			pub = derived
			c.signKey = slices.Clone(cfg.EdPrivate)
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: jwtcodec: EdDSA needs a private key or a %d-byte public key",
				domain.ErrInvalidArgument, ed25519.PublicKeySize)
		}
		c.method, c.verifyKey = jwt.SigningMethodEdDSA, slices.Clone(pub)
	default:
		return nil, fmt.Errorf("%w: jwtcodec: signing method %q (want HS256, HS384, HS512 or EdDSA)",
			domain.ErrInvalidArgument, cfg.Method)
	}
	c.header = b64.EncodeToString([]byte(`{"alg":"` + c.method.Alg() + `","typ":"JWT"}`))

	opts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	c.validator = jwt.NewValidator(opts...)
	return c, nil
}

// Sign returns the compact JWS of c, with header {"alg":...,"typ":"JWT"}.
// A non-nil user is encoded as the "usr" claim. Times are truncated to
// whole seconds. It returns an error wrapping domain.ErrInvalidArgument
// when the codec is verify-only, when c lacks sub, sid, gen or exp or has
// an unknown typ, or when user cannot be encoded as JSON.
func (c *Codec) Sign(cl domain.Claims, user any) (string, error) {
	if c.signKey == nil {
		return "", fmt.Errorf("%w: jwtcodec: verify-only codec (no EdDSA private key)", domain.ErrInvalidArgument)
	}
	if _, err := domain.ParseTokenType(string(cl.Type)); err != nil {
		return "", fmt.Errorf("jwtcodec: %w", err)
	}
	if cl.Subject == "" || cl.SessionID == "" || cl.Generation == "" || cl.ExpiresAt.IsZero() {
		return "", fmt.Errorf("%w: jwtcodec: claims need sub, sid, gen and exp", domain.ErrInvalidArgument)
	}
	if cl.Issuer == "" {
		cl.Issuer = c.issuer
	}
	if len(cl.Audience) == 0 {
		cl.Audience = c.audience
	}
	payload, err := json.Marshal(newClaims(cl, user))
	if err != nil {
		return "", fmt.Errorf("%w: jwtcodec: encode claims: %v", domain.ErrInvalidArgument, err)
	}
	signingInput := c.header + "." + b64.EncodeToString(payload)
	sig, err := c.method.Sign(signingInput, c.signKey)
	if err != nil {
		return "", fmt.Errorf("%w: jwtcodec: sign: %v", domain.ErrInvalidArgument, err)
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

var (
	errTooLarge  = fmt.Errorf("%w: jwtcodec: token larger than %d bytes", domain.ErrMalformed, MaxTokenSize)
	errParts     = fmt.Errorf("%w: jwtcodec: want three dot-separated parts", domain.ErrMalformed)
	errBase64    = fmt.Errorf("%w: jwtcodec: bad base64url segment", domain.ErrMalformed)
	errAlg       = fmt.Errorf("%w: jwtcodec: signing method not allowed", domain.ErrInvalid)
	errSignature = fmt.Errorf("%w: jwtcodec: signature verification failed", domain.ErrInvalid)
	errExpired   = fmt.Errorf("%w: jwtcodec: token is expired", domain.ErrExpired)
	errUser      = fmt.Errorf("%w: jwtcodec: user must be nil or a non-nil pointer", domain.ErrInvalidArgument)
	errRefused   = fmt.Errorf("%w: jwtcodec: claims refused", domain.ErrInvalid)
)

// Parse verifies token and returns its claims. When user is a non-nil
// pointer the "usr" claim is decoded into it; user may be written even when
// Parse then rejects the claims (for example an expired token), but only
// after the signature was verified.
//
// Parse checks, in order: size (at most MaxTokenSize), structure, that the
// header's alg is the configured method, the signature, the JSON of the
// claims, and finally the claims: exp required and not past, nbf and iat
// not in the future (with the leeway; exp has none), iss and aud when configured,
// typ "access" or "refresh", sub, sid and gen present. Errors wrap
// domain.ErrMalformed, domain.ErrInvalid or domain.ErrExpired (only when
// expiry is the sole problem); a user that is neither nil nor a non-nil
// pointer is a programming error reported as domain.ErrInvalidArgument.
func (c *Codec) Parse(token []byte, user any) (domain.Claims, error) {
	if len(token) > MaxTokenSize {
		return domain.Claims{}, errTooLarge
	}
	if user != nil {
		if v := reflect.ValueOf(user); v.Kind() != reflect.Pointer || v.IsNil() {
			return domain.Claims{}, errUser
		}
	}
	dot1 := bytes.IndexByte(token, '.')
	if dot1 < 0 {
		return domain.Claims{}, errParts
	}
	dot2 := bytes.IndexByte(token[dot1+1:], '.') + dot1 + 1
	if dot2 == dot1 || bytes.IndexByte(token[dot2+1:], '.') >= 0 {
		return domain.Claims{}, errParts
	}
	header, payload, sig := token[:dot1], token[dot1+1:dot2], token[dot2+1:]

	if err := c.checkHeader(header); err != nil {
		return domain.Claims{}, err
	}
	var sigBuf [maxSigSize]byte
	sigBytes := sigBuf[:0]
	if n := b64.DecodedLen(len(sig)); n > maxSigSize {
		sigBytes = make([]byte, 0, n)
	}
	sigBytes, err := decode(sigBytes[:cap(sigBytes)], sig)
	if err != nil {
		return domain.Claims{}, err
	}
	if !c.verify(token[:dot2], sigBytes) {
		return domain.Claims{}, errSignature
	}
	bp := payloadBufs.Get().(*[]byte)
	defer payloadBufs.Put(bp)
	if n := b64.DecodedLen(len(payload)); cap(*bp) < n {
		*bp = make([]byte, n)
	}
	payloadBytes, err := decode((*bp)[:b64.DecodedLen(len(payload))], payload)
	if err != nil {
		return domain.Claims{}, err
	}

	cl := claims{User: user}
	if user == nil {
		cl.User = new(skipJSON)
	}
	// The string claims are slices of this one copy of the payload.
	if err := cl.decode(payloadBytes, string(payloadBytes)); err != nil {
		return domain.Claims{}, fmt.Errorf("%w: jwtcodec: claims: %v", domain.ErrMalformed, err)
	}
	now := c.now()
	if !c.valid(&cl, now) {
		return domain.Claims{}, c.invalid(cl, now)
	}
	return cl.domain(), nil
}

// maxSigSize is the largest signature of the supported methods (HS512 and
// EdDSA: 64 bytes), which Parse decodes on the stack.
const maxSigSize = 64

// payloadBufs holds the buffers Parse decodes payloads into; nothing
// retains them after Parse returns (the claims are copied into one string,
// and encoding/json and Unmarshalers do not keep their input).
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Now returns the time on the codec's clock (Config.Now), by which Parse
// checks exp, nbf and iat.
func (c *Codec) Now() time.Time { return c.now() }

// verify reports whether sig is the signature of input. HS* tokens are
// checked here with pooled HMAC states: golang-jwt's
// SigningMethodHMAC.Verify builds a new HMAC (two hash states and their
// pads) on every call, seven allocations and a third of Parse's time. It
// computes the same thing, HMAC over the signing input compared in
// constant time with hmac.Equal, which is all it does after checking the
// key type and the hash's availability, both fixed by New. EdDSA, and
// signing with every method, stay with golang-jwt.
func (c *Codec) verify(input, sig []byte) bool {
	if c.macs == nil {
		return c.method.Verify(string(input), bytes.Clone(sig), c.verifyKey) == nil
	}
	m := c.macs.Get().(*macState)
	defer c.macs.Put(m)
	m.h.Reset()
	_, _ = m.h.Write(input) // a hash.Hash never returns an error
	m.sum = m.h.Sum(m.sum[:0])
	return hmac.Equal(m.sum, sig)
}

// macState is a keyed HMAC and a buffer for its sum, reused across calls.
type macState struct {
	h   hash.Hash
	sum []byte
}

// valid reports whether cl passes the checks golang-jwt's Validator makes
// with the codec's options (exp required, nbf and iat with the leeway,
// iss and aud when configured), with exp given no leeway, and the jwtauth
// claims' own (claims.Validate). It decides valid tokens without the
// Validator, which allocates on every call; invalid ones go to invalid for
// the Validator's error. TestValidMatchesValidator holds the two to the
// same answer.
func (c *Codec) valid(cl *claims, now time.Time) bool {
	if cl.ExpiresAt.IsZero() || !now.Before(cl.ExpiresAt.Time) {
		return false
	}
	if !cl.NotBefore.IsZero() && now.Before(cl.NotBefore.Add(-c.leeway)) {
		return false
	}
	if !cl.IssuedAt.IsZero() && now.Before(cl.IssuedAt.Add(-c.leeway)) {
		return false
	}
	if c.issuer != "" && cl.Issuer != c.issuer {
		return false
	}
	if len(c.audience) > 0 {
		aud := cl.Audience
		if len(aud) == 0 || len(aud) == 1 && aud[0] == "" ||
			!slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(c.audience, a) }) {
			return false
		}
	}
	return cl.Validate() == nil
}

// invalid returns the error of claims that valid refused: the Validator's,
// else exp's (which the Validator checks with the leeway). Should the
// Validator accept claims that valid refused, they are refused all the
// same.
func (c *Codec) invalid(cl claims, now time.Time) error {
	if err := c.validator.Validate(&cl); err != nil {
		return validationError(err)
	}
	if !now.Before(cl.ExpiresAt.Time) {
		return errExpired
	}
	return errRefused
}

// checkHeader accepts the header Sign writes without decoding it, and
// otherwise any JOSE header whose alg is exactly the configured method.
func (c *Codec) checkHeader(seg []byte) error {
	if string(seg) == c.header {
		return nil
	}
	raw, err := decode(make([]byte, b64.DecodedLen(len(seg))), seg)
	if err != nil {
		return err
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("%w: jwtcodec: header: %v", domain.ErrMalformed, err)
	}
	if h.Alg != c.method.Alg() {
		return errAlg
	}
	return nil
}

// decode decodes the base64url segment src into dst, which must hold
// b64.DecodedLen(len(src)) bytes. It rejects the CR and LF characters that
// encoding/base64 would otherwise skip (every byte of src must count:
// EncodedLen of what was decoded is len(src)), so a segment has a single
// spelling.
func decode(dst, src []byte) ([]byte, error) {
	n, err := b64.Decode(dst, src)
	if err != nil || n != b64.DecodedLen(len(src)) || b64.EncodedLen(n) != len(src) {
		return nil, errBase64
	}
	return dst[:n], nil
}

// validationError maps an error of jwt.Validator.Validate to a domain
// error: ErrExpired when expiry is the only problem, ErrInvalid otherwise.
func validationError(err error) error {
	kind := domain.ErrExpired
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		if !errors.Is(e, jwt.ErrTokenExpired) {
			kind = domain.ErrInvalid
		}
	}
	return fmt.Errorf("%w: jwtcodec: %v", kind, err)
}

// String prints the configuration with its keys hidden, so that a Config
// can be logged.
func (c Config) String() string {
	return fmt.Sprintf("jwtcodec.Config{Method:%s Issuer:%q Audience:%q Leeway:%s Key:[redacted]}", c.Method, c.Issuer, c.Audience, c.Leeway)
}

// GoString hides the keys from %#v too.
func (c Config) GoString() string { return c.String() }

// String hides the keys, so that a Codec can be logged.
func (c *Codec) String() string { return "jwtcodec.Codec{keys:[redacted]}" }

// GoString hides the keys from %#v too.
func (c *Codec) GoString() string { return c.String() }
