package dpop

import (
	"net/url"
	"strings"
)

// sameURL reports whether the htu claim names target, ignoring query and
// fragment, after the syntax- and scheme-based normalisation RFC 9449 §4.3
// asks for (RFC 3986 §6.2.2 and §6.2.3): case of scheme and host, default
// port, empty path, percent-encoding case and unreserved characters, and
// dot segments.
func sameURL(htu string, target *url.URL) bool {
	if target == nil {
		return false
	}
	u, err := url.Parse(htu)
	if err != nil {
		return false
	}
	a, ok := normalURL(u)
	if !ok {
		return false
	}
	b, ok := normalURL(target)
	return ok && a == b
}

// normalURL returns scheme://host[:port]/path of an absolute http(s) URL
// in normal form.
func normalURL(u *url.URL) (string, bool) {
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
	path, ok := normalPath(u.EscapedPath())
	if !ok {
		return "", false
	}
	return scheme + "://" + host + path, true
}

// normalPath upper-cases percent-encodings, decodes those of unreserved
// characters and removes dot segments (RFC 3986 §5.2.4). An empty path is
// "/".
func normalPath(p string) (string, bool) {
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
	out := removeDotSegments(b.String())
	if out == "" {
		out = "/"
	}
	return out, true
}

func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	var out []string
	segs := strings.Split(in, "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
