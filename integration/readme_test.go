package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tourStep is one command block of the README's tour and the output the
// README shows for it.
type tourStep struct {
	Script string
	Lang   string // "json" or "text"
	Output string
}

var fenceRE = regexp.MustCompile("(?s)```([a-z]*)\n(.*?)```")

// readTour returns the steps between <!-- tour --> and <!-- /tour --> in
// README.md: each ```sh block followed by its ```json or ```text output.
func readTour(t *testing.T) []tourStep {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), "<!-- tour -->")
	require.True(t, ok, "README.md has no <!-- tour --> marker")
	tour, _, ok := strings.Cut(rest, "<!-- /tour -->")
	require.True(t, ok, "README.md has no <!-- /tour --> marker")
	var steps []tourStep
	for _, m := range fenceRE.FindAllStringSubmatch(tour, -1) {
		lang, body := m[1], m[2]
		switch lang {
		case "sh", "bash":
			steps = append(steps, tourStep{Script: body})
		case "json", "text":
			require.NotEmpty(t, steps, "an output block before any command")
			last := &steps[len(steps)-1]
			require.Empty(t, last.Lang, "two output blocks for one command")
			last.Lang, last.Output = lang, body
		default:
			t.Fatalf("unexpected ```%s block in the tour", lang)
		}
	}
	require.NotEmpty(t, steps)
	return steps
}

const stepMark = "@@jwtauth-tour-step@@"

// TestReadmeTour runs the README's curl tour, in order and in one shell
// (variables carry over), against a fresh reference server, and compares
// each answer with the sample output the README shows.
func TestReadmeTour(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the README tour needs %s", tool)
			}
			t.Skipf("the README tour needs %s", tool)
		}
	}
	steps := readTour(t)
	s := start(t, nil)

	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, st := range steps {
		fmt.Fprintf(&script, "printf '\\n%%s\\n' %s\n%s\n", stepMark, strings.ReplaceAll(st.Script, "http://127.0.0.1:8080", s.URL))
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the tour failed:\n%s", out)

	// Each step's output ends before "\n<mark>\n" (the newline keeps a
	// body without a final newline apart from the mark).
	outputs := strings.Split(string(out), "\n"+stepMark+"\n")
	require.Len(t, outputs, len(steps)+1, "output:\n%s", out)
	require.Empty(t, strings.TrimSpace(outputs[0]), "output before the first step")
	for i, st := range steps {
		got := outputs[i+1]
		t.Run(fmt.Sprintf("step %d", i+1), func(t *testing.T) {
			switch st.Lang {
			case "json":
				var want, have any
				require.NoError(t, json.Unmarshal([]byte(st.Output), &want), "README sample:\n%s", st.Output)
				require.NoError(t, json.Unmarshal([]byte(got), &have), "answer:\n%s", got)
				matchJSON(t, "$", want, have)
			case "text":
				assert.Equal(t, textLines(st.Output), textLines(got))
			default:
				assert.Empty(t, strings.TrimSpace(got))
			}
		})
	}
}

// sessionIDRE matches a session id (crypto/rand.Text).
var sessionIDRE = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// volatile are fields whose values differ on every run.
var volatile = map[string]bool{
	"access_token": true, "refresh_token": true, "session_id": true,
	"created_at": true, "last_seen_at": true, "device_name": true,
}

// matchJSON compares an answer with the README's sample: same keys and
// types everywhere, same values except volatile ones (tokens, ids, times,
// curl's User-Agent, anything the README shortened with "…").
func matchJSON(t *testing.T, path string, want, have any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		require.True(t, ok, "%s: want an object, got %v", path, have)
		assert.ElementsMatch(t, keysOf(w), keysOf(h), "%s: keys", path)
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				continue
			}
			if volatile[k] {
				_, isString := hv.(string)
				assert.True(t, isString && hv != "", "%s.%s: want a non-empty string, got %v", path, k, hv)
				continue
			}
			matchJSON(t, path+"."+k, wv, hv)
		}
	case []any:
		h, ok := have.([]any)
		require.True(t, ok, "%s: want an array, got %v", path, have)
		require.Len(t, h, len(w), path)
		for i := range w {
			matchJSON(t, fmt.Sprintf("%s[%d]", path, i), w[i], h[i])
		}
	case string:
		hs, ok := have.(string)
		require.True(t, ok, "%s: want a string, got %v", path, have)
		if strings.Contains(w, "…") || sessionIDRE.MatchString(w) {
			assert.NotEmpty(t, hs, path)
			return
		}
		assert.Equal(t, w, hs, path)
	default:
		assert.Equal(t, want, have, path)
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// textLines returns the lines of s without trailing blanks, CRs and the
// Date header.
func textLines(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(s, "\r\n "), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "Date: ") {
			continue
		}
		out = append(out, line)
	}
	return out
}
