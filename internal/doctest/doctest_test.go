package doctest

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	// The snippets' packages, linked in so that go test's cache drops a
	// cached pass when their code changes: the go vet run is invisible to it.
	_ "github.com/jwtauth/jwtauth"
	_ "github.com/jwtauth/jwtauth/adapters/echoauth"
	_ "github.com/jwtauth/jwtauth/adapters/httpauth"
	_ "github.com/jwtauth/jwtauth/dpop"
)

// moduleRoot is the module root relative to this package's directory,
// where go test runs the test.
const moduleRoot = "../.."

// docs are the Markdown files whose Go blocks are checked, relative to
// the module root.
var docs = []string{
	"README.md",
	"docs/architecture.md",
	"docs/configuration.md",
	"docs/browser.md",
	"docs/dpop.md",
	"docs/migrating-from-d_jwt_auth.md",
	"docs/operations.md",
}

// Markers, on the last non-blank line before a block's fence. parseOnly
// marks a sketch that is parsed but not type-checked; continues marks a
// file of the same package as the previous block of the Markdown file.
const (
	parseOnly = "<!-- doctest: parse-only -->"
	continues = "<!-- doctest: continues -->"
)

type snippet struct {
	doc       string // Markdown file, relative to the module root
	line      int    // line of the first code line (after the fence)
	code      string
	parseOnly bool
	continues bool
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.doc, s.line) }

// extract returns the ```go blocks of a Markdown file, with the fence's
// indentation (blocks in list items) removed from their lines.
func extract(t *testing.T, doc string) []snippet {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot, doc))
	if err != nil {
		t.Fatal(err)
	}
	var (
		out     []snippet
		cur     *snippet
		indent  string
		code    strings.Builder
		lastTxt string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if trimmed == "```go" {
				indent = line[:strings.Index(line, "```")]
				cur = &snippet{doc: doc, line: n + 1, parseOnly: lastTxt == parseOnly, continues: lastTxt == continues}
				code.Reset()
			} else if trimmed != "" {
				lastTxt = trimmed
			}
			continue
		}
		if trimmed == "```" {
			cur.code = code.String()
			out = append(out, *cur)
			cur, lastTxt = nil, ""
			continue
		}
		code.WriteString(strings.TrimPrefix(line, indent))
		code.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: unterminated ```go block", cur)
	}
	return out
}

func hasPackageClause(code string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", code, parser.PackageClauseOnly)
	return err == nil && f.Name != nil
}

// TestSnippets type-checks every whole-file block with one go vet run over
// a temporary directory per block, inside the module (its name starts with
// "_" so that ./... never matches it), and parses the parse-only ones.
func TestSnippets(t *testing.T) {
	var whole []snippet
	for _, doc := range docs {
		snippets := extract(t, doc)
		if len(snippets) == 0 {
			t.Errorf("%s: no ```go blocks found", doc)
		}
		for _, s := range snippets {
			switch {
			case s.parseOnly:
				src := s.code
				if !hasPackageClause(src) {
					src = "package p\n" + src
				}
				if _, err := parser.ParseFile(token.NewFileSet(), s.String(), src, parser.AllErrors); err != nil {
					t.Errorf("%s: parse-only block does not parse:\n%v", s, err)
				}
			case !hasPackageClause(s.code):
				t.Errorf("%s: a ```go block must be a whole file starting with its package clause (or be marked %s)", s, parseOnly)
			case s.continues && (len(whole) == 0 || whole[len(whole)-1].doc != doc):
				t.Errorf("%s: %s but no whole-file block before it in %s", s, continues, doc)
			default:
				if formatted, err := format.Source([]byte(s.code)); err == nil && string(formatted) != s.code {
					t.Errorf("%s: block is not gofmt-formatted; gofmt gives:\n%s", s, formatted)
				}
				whole = append(whole, s)
			}
		}
	}
	if len(whole) == 0 {
		return
	}

	tmp, err := os.MkdirTemp(".", "_snippets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	abs, err := filepath.Abs(moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	var (
		args = []string{"vet"}
		dirs = make([]string, len(whole)) // block i is file i.go of dirs[i]
	)
	for i, s := range whole {
		if s.continues {
			dirs[i] = dirs[i-1]
		} else {
			dirs[i] = filepath.Join(tmp, fmt.Sprintf("p%02d", i))
			if err := os.Mkdir(dirs[i], 0o755); err != nil {
				t.Fatal(err)
			}
			args = append(args, "./"+filepath.ToSlash(filepath.Join("internal/doctest", dirs[i])))
		}
		// The line directive makes the compiler and vet report positions
		// in the Markdown file.
		src := fmt.Sprintf("//line %s:%d\n%s", filepath.Join(abs, s.doc), s.line, s.code)
		if err := os.WriteFile(filepath.Join(dirs[i], fmt.Sprintf("%02d.go", i)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		var list strings.Builder
		for i, s := range whole {
			fmt.Fprintf(&list, "  %s/%02d.go: %s\n", dirs[i], i, s)
		}
		t.Fatalf("go vet on the documentation's Go blocks failed: %v\n%s\nblocks:\n%s", err, out, list.String())
	}
	t.Logf("type-checked %d blocks", len(whole))
}
