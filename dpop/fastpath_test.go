package dpop

import (
	"crypto/sha256"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The allocation-free forms of the htu comparison and the ath check are
// tested against the plain ones they replaced, kept here as references.

func TestSameURLMatchesReference(t *testing.T) {
	cases := [][2]string{
		{target, target}, {target + "?a#b", target}, {"HTTPS://API.Example.COM/v1/items", target},
		{"https://api.example.com:443/v1/items", target}, {"http://api.example.com:80", "http://api.example.com/"},
		{"https://api.example.com/v1/%69tems", target}, {"https://api.example.com/a%2fb", "https://api.example.com/a%2Fb"},
		{"https://api.example.com/v1/x/../items", target}, {"https://api.example.com/./a/./", "https://api.example.com/a/"},
		{"https://[::1]:8443/a", "https://[::1]:8443/a"}, {"https://[::1]/a", "https://[0:0::1]/a"},
		{"https://api.example.com/v1/%zz", target}, {"https://u@api.example.com/", "https://api.example.com/"},
		{"ftp://api.example.com/", "ftp://api.example.com/"}, {"/v1/items", "/v1/items"}, {"https://", "https://"},
		{"https://ÄPI.example.com/", "https://äpi.example.com/"}, {"https://api.example.com/" + strings.Repeat("a/", 300), "https://api.example.com/" + strings.Repeat("a/", 300)},
		{"https://api.example.com/%2e%2E/a", "https://api.example.com/a"}, {"https://api.example.com/a/..", "https://api.example.com/"},
	}
	for _, c := range cases {
		u, err := url.Parse(c[1])
		require.NoError(t, err)
		assert.Equal(t, refSameURL(c[0], u), sameURL(c[0], u), "%q vs %q", c[0], c[1])
	}
	assert.False(t, sameURL(target, nil))
}

func FuzzSameURL(f *testing.F) {
	f.Add(target, target)
	f.Add("HTTPS://API.Example.COM:443/v1/%69tems/./x/..", target)
	f.Add("http://[::1]:80/a%2fb", "http://[::1]/a%2Fb")
	f.Fuzz(func(t *testing.T, htu, rawTarget string) {
		u, err := url.Parse(rawTarget)
		if err != nil {
			return
		}
		if got, want := sameURL(htu, u), refSameURL(htu, u); got != want {
			t.Fatalf("sameURL(%q, %q) = %v, reference %v", htu, rawTarget, got, want)
		}
	})
}

func TestATHMatches(t *testing.T) {
	good := AccessTokenHash("tok")
	sum := sha256.Sum256([]byte("tok"))
	last := b64.EncodeToString(sum[:])
	require.Equal(t, good, last)
	cases := []struct {
		name string
		ath  string
		want bool
	}{
		{"canonical", good, true},
		{"other token", AccessTokenHash("tok2"), false},
		{"padded", good + "=", false},
		{"newline inside", good[:10] + "\n" + good[10:42], false},
		{"CR inside", good[:10] + "\r" + good[11:], false},
		{"non-zero trailing bits", good[:42] + string(flipLow(good[42])), false},
		{"empty", "", false},
		{"short", good[:42], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, athMatches(c.ath, "tok"))
			assert.Equal(t, c.ath == good, athMatches(c.ath, "tok"), "as the string comparison")
		})
	}
}

// flipLow returns the base64url character whose value differs from c's in
// the lowest bit: one of the 4 trailing bits of a 43-character encoding.
func flipLow(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func FuzzATHMatches(f *testing.F) {
	f.Add(AccessTokenHash("tok"), "tok")
	f.Add(AccessTokenHash("tok")[:42]+"\n", "tok")
	f.Fuzz(func(t *testing.T, ath, token string) {
		if got, want := athMatches(ath, token), ath == AccessTokenHash(token); got != want {
			t.Fatalf("athMatches(%q, %q) = %v, want %v", ath, token, got, want)
		}
	})
}

// refSameURL and the functions below are the former plain-string
// implementation of sameURL.
func refSameURL(htu string, target *url.URL) bool {
	if target == nil {
		return false
	}
	u, err := url.Parse(htu)
	if err != nil {
		return false
	}
	a, ok := refNormalURL(u)
	if !ok {
		return false
	}
	b, ok := refNormalURL(target)
	return ok && a == b
}

// refNormalURL returns scheme://host[:port]/path of an absolute http(s) URL
// in normal form.
func refNormalURL(u *url.URL) (string, bool) {
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Opaque != "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	path, ok := refNormalPath(u.EscapedPath())
	if !ok {
		return "", false
	}
	return scheme + "://" + host + path, true
}

// refNormalPath upper-cases percent-encodings, decodes those of unreserved
// characters and removes dot segments (RFC 3986 §5.2.4). An empty path is
// "/".
func refNormalPath(p string) (string, bool) {
	var b strings.Builder
	b.Grow(len(p) + 1)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(d) {
			b.WriteByte(d)
		} else {
			b.WriteByte('%')
			b.WriteByte(upper(p[i+1]))
			b.WriteByte(upper(p[i+2]))
		}
		i += 2
	}
	out := removeDotSegments(b.String()) // shared: the fast path differs in its buffers, not here
	if out == "" {
		out = "/"
	}
	return out, true
}
