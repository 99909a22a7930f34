package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// openapiPath is the reference server's contract, relative to this package.
var openapiPath = filepath.Join("..", "..", "docs", "openapi.yaml")

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// specOperation is the part of an OpenAPI operation the tests check.
type specOperation struct {
	OperationID string                `yaml:"operationId"`
	Security    []map[string][]string `yaml:"security"`
	RequestBody any                   `yaml:"requestBody"`
	Responses   map[string]any        `yaml:"responses"`
}

// route is an HTTP method and an Echo path ("/auth/sessions/:id").
type route struct{ Method, Path string }

func (r route) String() string { return r.Method + " " + r.Path }

// loadSpec parses docs/openapi.yaml into its operations by route, and
// returns the whole document too.
func loadSpec(t *testing.T) (map[route]specOperation, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(openapiPath)
	require.NoError(t, err)
	var doc struct {
		OpenAPI  string                          `yaml:"openapi"`
		Security []map[string][]string           `yaml:"security"`
		Paths    map[string]map[string]yaml.Node `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"), "openapi %q", doc.OpenAPI)
	require.Empty(t, doc.Security, "security is declared per operation, not globally")
	require.NotEmpty(t, doc.Paths)

	param := regexp.MustCompile(`\{([^}/]+)\}`)
	ops := map[route]specOperation{}
	for path, item := range doc.Paths {
		echoPath := param.ReplaceAllString(path, ":$1")
		for key, node := range item {
			if !slices.Contains(httpMethods, key) {
				require.Contains(t, []string{"summary", "description", "parameters", "servers"}, key, "path %s", path)
				continue
			}
			var op specOperation
			require.NoError(t, node.Decode(&op), "%s %s", key, path)
			ops[route{strings.ToUpper(key), echoPath}] = op
		}
	}
	var whole map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &whole))
	return ops, whole
}

// newTestServer builds the reference server (SQLite in a temp dir) without
// a listener; its Echo instance carries every route.
func newTestServer(t *testing.T) *server {
	t.Helper()
	cfg := testConfig(t, testEnv(t, nil))
	srv, err := newServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(10 * time.Second) })
	return srv
}

// serverRoutes returns the routes the server's Echo instance serves,
// without Echo's internal routes (404 handlers, "any" routes of groups).
func serverRoutes(t *testing.T, srv *server) map[route]bool {
	t.Helper()
	routes := map[route]bool{}
	for _, r := range srv.echo.Routes() {
		if !slices.Contains(httpMethods, strings.ToLower(r.Method)) || strings.HasSuffix(r.Path, "*") {
			continue
		}
		routes[route{r.Method, r.Path}] = true
	}
	return routes
}

// TestOpenAPIMatchesRoutes holds docs/openapi.yaml to the real server:
// every operation in the spec is a route of the server, and every route of
// the server is in the spec.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	ops, _ := loadSpec(t)
	routes := serverRoutes(t, newTestServer(t))
	require.NotEmpty(t, routes)

	for r := range ops {
		assert.True(t, routes[r], "%s is in docs/openapi.yaml but the server has no such route", r)
	}
	for r := range routes {
		_, ok := ops[r]
		assert.True(t, ok, "the server serves %s but docs/openapi.yaml does not describe it", r)
	}
}

// TestOpenAPIResponses checks the status codes every operation must list:
// 503 everywhere (the service fails closed), 401 with bearer security, 400
// and 413 with a request body; and that the spec's claims about security
// match the server: a secured operation answers a request without a token
// 401 with a WWW-Authenticate challenge, an open one does not.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	ops, _ := loadSpec(t)
	srv := newTestServer(t)

	ids := map[string]route{}
	for r, op := range ops {
		t.Run(r.String(), func(t *testing.T) {
			require.NotEmpty(t, op.OperationID, "operationId")
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is also used by %s", op.OperationID, prev)
			}
			ids[op.OperationID] = r
			require.NotEmpty(t, op.Responses, "responses")

			assert.Contains(t, op.Responses, "503", "every operation can answer 503 unavailable")
			secured := len(op.Security) > 0
			if secured {
				assert.Contains(t, op.Responses, "401", "a secured operation answers 401")
				for _, req := range op.Security {
					for scheme := range req {
						assert.Contains(t, []string{"bearer", "dpop", "accessCookie", "refreshCookie"}, scheme, "security scheme")
					}
				}
			}
			if op.RequestBody != nil {
				assert.Contains(t, op.Responses, "400", "a bad body is 400")
				assert.Contains(t, op.Responses, "413", "a body over the limit is 413")
			}
			for code := range op.Responses {
				assert.Regexp(t, `^[1-5][0-9][0-9]$`, code, "status codes are quoted three-digit strings")
			}

			// Against the server: no token, no body.
			path := regexp.MustCompile(`:[^/]+`).ReplaceAllString(r.Path, "x")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(r.Method, path, nil))
			assert.Contains(t, op.Responses, strconv.Itoa(rec.Code), "the server answered %d, which the spec does not list", rec.Code)
			if secured {
				assert.Equal(t, http.StatusUnauthorized, rec.Code)
				assert.Equal(t, `Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`,
					rec.Header().Get("WWW-Authenticate"))
			} else {
				assert.NotEqual(t, http.StatusUnauthorized, rec.Code, "an open operation must not ask for a token")
			}
		})
	}
}

// TestOpenAPIRefsResolve checks that every local $ref points at something.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	_, doc := loadSpec(t)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if s, ok := child.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		require.True(t, strings.HasPrefix(ref, "#/"), "only local references: %s", ref)
		var node any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := node.(map[string]any)
			require.True(t, ok, "%s: %q is not an object", ref, part)
			node, ok = m[part]
			require.True(t, ok, "%s does not resolve", ref)
		}
	}
}
