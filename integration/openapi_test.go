package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
)

// contractServer is the server URL of docs/openapi.yaml; requests are
// matched against the contract as if sent there.
const contractServer = "http://127.0.0.1:8080"

var contract = sync.OnceValues(func() (*openAPIContract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../docs/openapi.yaml")
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPIContract{doc: doc, router: router}, nil
})

type openAPIContract struct {
	doc    *openapi3.T
	router routers.Router
}

// validate checks a response of the server to method path against
// docs/openapi.yaml with kin-openapi's openapi3filter: the status must be
// documented for the operation and the headers and body must match its
// schemas. A request matching no operation (unknown path, or a method the
// path does not have) must get an Error body.
func (c *openAPIContract) validate(method, path string, r resp) error {
	req, err := http.NewRequestWithContext(context.Background(), method, contractServer+path, nil)
	if err != nil {
		return err
	}
	route, params, err := c.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		var body any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return fmt.Errorf("%s %s (no operation) → %d: body is not JSON: %w", method, path, r.Status, err)
		}
		if err := c.doc.Components.Schemas["Error"].Value.VisitJSON(body); err != nil {
			return fmt.Errorf("%s %s (no operation) → %d: not an Error body: %w", method, path, r.Status, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status:  r.Status,
		Header:  r.Header,
		Body:    io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s → %d %s: %w", method, path, r.Status, r.Body, err)
	}
	return nil
}

// checkContract fails the test when r does not match docs/openapi.yaml.
func checkContract(t *testing.T, method, path string, r resp) {
	t.Helper()
	c, err := contract()
	require.NoError(t, err)
	require.NoError(t, c.validate(method, path, r))
}

// The validator is not a rubber stamp: it rejects undocumented statuses,
// bodies off their schema and error bodies off the Error shape.
func TestContractValidatorRejects(t *testing.T) {
	c, err := contract()
	require.NoError(t, err)
	json := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name, method, path string
		r                  resp
	}{
		{"undocumented status", http.MethodGet, "/auth/me", resp{Status: http.StatusTeapot, Header: json, Body: []byte(`{"error":"invalid_token","error_description":"x"}`)}},
		{"login body without tokens", http.MethodPost, "/auth/login", resp{Status: 200, Header: json, Body: []byte(`{"token_type":"Bearer"}`)}},
		{"unknown error code", http.MethodGet, "/auth/sessions", resp{Status: 401, Header: json, Body: []byte(`{"error":"nope","error_description":"x"}`)}},
		{"plain-text 404", http.MethodGet, "/nope", resp{Status: 404, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("404 page not found")}},
		{"405 without error_description", http.MethodPut, "/auth/login", resp{Status: 405, Header: json, Body: []byte(`{"error":"invalid_request"}`)}},
	} {
		require.Error(t, c.validate(tt.method, tt.path, tt.r), tt.name)
	}
	require.NoError(t, c.validate(http.MethodGet, "/nope", resp{Status: 404, Header: json, Body: []byte(`{"error":"not_found","error_description":"no such resource"}`)}))
}
