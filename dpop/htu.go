package dpop

import (
	"bytes"
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
	// Both normal forms are built in stack buffers when they fit.
	var bufA, bufB [256]byte
	a, ok := appendNormalURL(bufA[:0], u)
	if !ok {
		return false
	}
	b, ok := appendNormalURL(bufB[:0], target)
	return ok && string(a) == string(b)
}

// appendNormalURL appends scheme://host[:port]/path of an absolute
// http(s) URL in normal form to dst.
func appendNormalURL(dst []byte, u *url.URL) ([]byte, bool) {
	// strings.ToLower allocates only for a string with upper-case letters.
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Opaque != "" || u.User != nil {
		return nil, false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return nil, false
	}
	dst = append(dst, scheme...)
	dst = append(dst, "://"...)
	v6 := strings.Contains(host, ":")
	if v6 {
		dst = append(dst, '[')
	}
	dst = append(dst, host...)
	if v6 {
		dst = append(dst, ']')
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		dst = append(dst, ':')
		dst = append(dst, port...)
	}
	return appendNormalPath(dst, u.EscapedPath())
}

// appendNormalPath appends p to dst with percent-encodings upper-cased,
// those of unreserved characters decoded and dot segments removed (RFC
// 3986 §5.2.4). An empty path is "/".
func appendNormalPath(dst []byte, p string) ([]byte, bool) {
	start := len(dst)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return nil, false
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if isUnreserved(d) {
			dst = append(dst, d)
		} else {
			dst = append(dst, '%', upper(p[i+1]), upper(p[i+2]))
		}
		i += 2
	}
	if bytes.IndexByte(dst[start:], '.') >= 0 {
		dst = append(dst[:start], removeDotSegments(string(dst[start:]))...)
	}
	if len(dst) == start {
		dst = append(dst, '/')
	}
	return dst, true
}

func removeDotSegments(in string) string {
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
