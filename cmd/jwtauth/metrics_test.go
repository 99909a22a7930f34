package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// servedServer is a `jwtauth serve` process run in-process by run(), with
// its API and metrics base URLs.
type servedServer struct {
	API, Metrics string
	Log          *syncBuffer
}

// serve runs `jwtauth serve` for env until the test ends, and returns the
// addresses it printed.
func serve(t *testing.T, env map[string]string) servedServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, strings.NewReader(""), pw, logs, mapLookup(env), environ(env))
		_ = pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, 0, code, logs.String())
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	out := bufio.NewReader(pr)
	var s servedServer
	s.Log = logs
	for _, prefix := range []string{"listening on ", "metrics on "} {
		line, err := out.ReadString('\n')
		require.NoError(t, err, "stderr: %s", logs.String())
		require.True(t, strings.HasPrefix(line, prefix), line)
		u := strings.TrimSpace(strings.TrimPrefix(line, prefix))
		if prefix == "listening on " {
			s.API = u
		} else {
			s.Metrics = u
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s
}

// scrape reads /metrics with the Prometheus text parser into
// "family{label=value,...}" -> value: counters and gauges as they are,
// histograms as their count. The OpenTelemetry scope labels are left out.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	out := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, "jwtauth_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if !strings.HasPrefix(l.GetName(), "otel_scope_") {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
			}
			sort.Strings(labels)
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"#count"] = float64(m.GetHistogram().GetSampleCount())
			default:
				t.Fatalf("unexpected type %v of %s", f.GetType(), name)
			}
		}
	}
	return out
}

// moved returns what changed between two scrapes, for the names with one
// of prefixes.
func moved(before, after map[string]float64, prefixes ...string) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) && v != before[k] {
				d[k] = v - before[k]
			}
		}
	}
	return d
}

// exact are the series whose every move the test predicts.
var exact = []string{
	"jwtauth_authenticate_requests_total", "jwtauth_logins_total", "jwtauth_refreshes_total",
	"jwtauth_revocations_total", "jwtauth_http_responses_total", "jwtauth_store_errors_total",
	"jwtauth_bus_reconnects_total", "jwtauth_authenticate_duration_seconds",
}

// lookups is the sum of the cache lookups of every result: which result
// depends on when this instance's own invalidations come back, the sum
// does not.
func lookups(m map[string]float64) float64 {
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, "jwtauth_cache_lookups_total") {
			n += v
		}
	}
	return n
}

func TestMetricsAfterRealTraffic(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := serve(t, testEnv(t, map[string]string{
		"JWTAUTH_DATABASE_URL": dsn,
		"JWTAUTH_METRICS_ADDR": "127.0.0.1:0",
	}))
	require.True(t, strings.HasPrefix(s.Metrics, "http://127.0.0.1:"), s.Metrics)
	waitHealthy(t, s.Metrics, 0)
	step := func(name string, want map[string]float64, wantLookups float64, traffic func()) {
		t.Helper()
		b := scrape(t, s.Metrics)
		traffic()
		a := scrape(t, s.Metrics)
		assert.Equal(t, want, moved(b, a, exact...), name)
		assert.Equal(t, wantLookups, lookups(a)-lookups(b), name+": cache lookups")
	}

	var pair map[string]any
	step("login", map[string]float64{
		"jwtauth_logins_total{outcome=ok}":                                 1,
		"jwtauth_http_responses_total{code=,route=/auth/login,status=200}": 1,
	}, 0, func() { pair = login(t, s.API, "alice", "alice-password") })
	access, refresh := pair["access_token"].(string), pair["refresh_token"].(string)

	step("authenticated call", map[string]float64{
		"jwtauth_authenticate_requests_total{outcome=ok}":               1,
		"jwtauth_authenticate_duration_seconds{outcome=ok}#count":       1,
		"jwtauth_http_responses_total{code=,route=/auth/me,status=200}": 1,
	}, 2, func() {
		require.Equal(t, http.StatusOK, do(t, http.MethodGet, s.API+"/auth/me", access, nil).Status)
	})

	var access2 string
	step("refresh", map[string]float64{
		"jwtauth_refreshes_total{outcome=ok}":                                1,
		"jwtauth_http_responses_total{code=,route=/auth/refresh,status=200}": 1,
	}, 1, func() {
		r := do(t, http.MethodPost, s.API+"/auth/refresh", "", map[string]string{"refresh_token": refresh})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		access2 = r.JSON(t)["access_token"].(string)
	})

	step("logout", map[string]float64{
		"jwtauth_authenticate_requests_total{outcome=ok}":                   1,
		"jwtauth_authenticate_duration_seconds{outcome=ok}#count":           1,
		"jwtauth_revocations_total{kind=logout}":                            1,
		"jwtauth_http_responses_total{code=,route=/auth/logout,status=204}": 1,
	}, 2, func() {
		require.Equal(t, http.StatusNoContent, do(t, http.MethodPost, s.API+"/auth/logout", access2, nil).Status)
	})

	step("revoked call", map[string]float64{
		"jwtauth_authenticate_requests_total{outcome=token_revoked}":                 1,
		"jwtauth_authenticate_duration_seconds{outcome=token_revoked}#count":         1,
		"jwtauth_http_responses_total{code=token_revoked,route=/auth/me,status=401}": 1,
	}, 2, func() {
		require.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, s.API+"/auth/me", access, nil).Status)
	})

	step("no credentials", map[string]float64{
		"jwtauth_http_responses_total{code=invalid_token,route=/auth/me,status=401}": 1,
	}, 0, func() {
		require.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, s.API+"/auth/me", "", nil).Status)
	})

	// A bus outage: the listener's connection is killed; the bus reports
	// unhealthy, reconnects and is healthy again.
	step("bus outage", map[string]float64{"jwtauth_bus_reconnects_total{}": 1}, 0, func() {
		killListener(t, dsn)
		waitHealthy(t, s.Metrics, 1)
	})

	// The flush emptied the cache: the next check reads the store.
	pair2 := login(t, s.API, "alice", "alice-password")
	b := scrape(t, s.Metrics)
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, s.API+"/auth/me", pair2["access_token"].(string), nil).Status)
	after := scrape(t, s.Metrics)
	assert.Equal(t, 1.0, after["jwtauth_authenticate_requests_total{outcome=ok}"]-b["jwtauth_authenticate_requests_total{outcome=ok}"])
	assert.Equal(t, 2.0, lookups(after)-lookups(b))
	assert.Zero(t, after["jwtauth_store_errors_total{op=update_user}"])
	assert.Positive(t, after["jwtauth_store_duration_seconds{op=update_user}#count"])
	assert.Positive(t, after["jwtauth_bus_invalidations_total{}"])
	// Cardinality stays bounded: no label value carries a token, a user
	// or session id.
	for k := range after {
		assert.NotContains(t, k, pair["session_id"].(string))
		assert.NotContains(t, k, demoUserID("alice"))
	}
	// An unknown path is counted under a registered pattern, never its
	// own path.
	b = scrape(t, s.Metrics)
	require.Equal(t, http.StatusNotFound, do(t, http.MethodGet, s.API+"/nope/12345", "", nil).Status)
	for k := range moved(b, scrape(t, s.Metrics), "jwtauth_http_responses_total") {
		assert.NotContains(t, k, "12345")
		assert.Contains(t, k, "status=404")
	}
	// Every metric the operations page names (alerts included) is one
	// this server exports.
	checkDocumentedMetrics(t, after, "../../docs/operations.md")
	checkDashboard(t, s.Metrics, "../../docs/grafana/jwtauth.json")

	// Every request was logged with its code and a request id.
	logs := s.Log.String()
	assert.Contains(t, logs, `method=GET path=/auth/me status=401 code=token_revoked`)
	assert.Regexp(t, `path=/auth/logout status=204 code="" duration=\S+ request_id=[0-9a-f]{32} `, logs)
}

// waitHealthy scrapes until the bus is healthy after reconnects
// reconnections, for at most 10 s.
func waitHealthy(t *testing.T, url string, reconnects float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, url)
		if m["jwtauth_bus_reconnects_total{}"] == reconnects && m["jwtauth_bus_healthy{}"] == 1 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the bus is not healthy after %v reconnections: %v", reconnects, m)
		time.Sleep(20 * time.Millisecond)
	}
}

// killListener terminates the pq.Listener's backend of dsn's database:
// the only one whose last statement is a LISTEN or a listener ping (the
// empty query).
func killListener(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	require.NoError(t, err)
	defer db.Close()
	var killed int
	require.NoError(t, db.QueryRowContext(t.Context(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()
		  AND (query = '' OR query LIKE 'LISTEN %')`).Scan(&killed))
	require.Equal(t, 1, killed, "exactly the listener")
}

func TestRequestIDEchoed(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	get := func(id string) string {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/healthz", nil)
		require.NoError(t, err)
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		return res.Header.Get("X-Request-ID")
	}
	assert.Equal(t, "trace-42.a:b_c", get("trace-42.a:b_c"))
	generated := get("")
	assert.Regexp(t, `^[0-9a-f]{32}$`, generated)
	assert.NotEqual(t, generated, get(""))
	// An id that could forge log lines or grow without bound is replaced.
	for _, bad := range []string{"a b", "x\"y", strings.Repeat("a", 129), "é"} {
		got := get(bad)
		assert.Regexp(t, `^[0-9a-f]{32}$`, got, "%q", bad)
	}
	assert.Contains(t, s.Log.String(), "request_id=trace-42.a:b_c")
	assert.Contains(t, s.Log.String(), "request_id="+generated)
}

// failureOnly are the metrics a server exports only after a failure, so
// the scrape after healthy traffic lacks them (app's tests cover them).
var failureOnly = []string{"jwtauth_store_errors_total"}

// documentedMetric matches a Prometheus metric name in the docs.
var documentedMetric = regexp.MustCompile(`\bjwtauth_[a-z_]+?(_total|_seconds(_bucket|_sum|_count)?|_healthy)\b`)

// checkDocumentedMetrics checks that every jwtauth metric named in the
// file is in the scrape.
func checkDocumentedMetrics(t *testing.T, scraped map[string]float64, file string) {
	t.Helper()
	doc, err := os.ReadFile(file)
	require.NoError(t, err)
	families := map[string]bool{}
	for k := range scraped {
		name, _, _ := strings.Cut(k, "{")
		families[name] = true
	}
	names := documentedMetric.FindAllString(string(doc), -1)
	require.NotEmpty(t, names)
	for _, name := range names {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			name = strings.TrimSuffix(name, suffix)
		}
		if !slices.Contains(failureOnly, name) {
			assert.True(t, families[name], "%s names %s, which the server does not export", file, name)
		}
	}
}

// dashboardMetric matches a metric name in a PromQL expression of the
// dashboard: jwtauth's own and the Go collector's.
var dashboardMetric = regexp.MustCompile(`\b(jwtauth|go|process)_[a-z_]+\b`)

// checkDashboard loads the Grafana dashboard JSON and checks its shape
// (panels with unique ids, a position, a Prometheus data source and at
// least one query) and that every query names only metrics the server
// exports.
func checkDashboard(t *testing.T, metricsURL, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			GridPos struct{ W, H int } `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash), "valid JSON")
	require.NotEmpty(t, dash.Title)
	require.NotEmpty(t, dash.UID)
	require.NotEmpty(t, dash.Panels)

	families := scrapeFamilies(t, metricsURL)
	ids := map[int]bool{}
	var exprs []string
	for _, p := range dash.Panels {
		assert.False(t, ids[p.ID], "panel id %d twice", p.ID)
		ids[p.ID] = true
		assert.Contains(t, []string{"timeseries", "stat"}, p.Type, p.Title)
		assert.Equal(t, "prometheus", p.Datasource.Type, p.Title)
		assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		assert.Positive(t, p.GridPos.W*p.GridPos.H, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, q := range p.Targets {
			assert.NotEmpty(t, q.RefID, p.Title)
			exprs = append(exprs, q.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, fmt.Sprint(q["query"]))
		}
	}
	for _, e := range exprs {
		names := dashboardMetric.FindAllString(e, -1)
		require.NotEmpty(t, names, "%q names no metric", e)
		for _, name := range names {
			name = strings.TrimSuffix(name, "_bucket")
			if !slices.Contains(failureOnly, name) {
				assert.True(t, families[name], "the dashboard queries %s, which the server does not export: %s", name, e)
			}
		}
	}
}

// scrapeFamilies returns the names of every metric family /metrics
// serves.
func scrapeFamilies(t *testing.T, url string) map[string]bool {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	out := map[string]bool{}
	for name := range families {
		out[name] = true
	}
	return out
}
