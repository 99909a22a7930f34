// Command benchchart reads `go test -bench` output of jwtauth's benchmarks
// on standard input and writes either a PNG bar chart of the headline
// comparisons (the default) or, with -table, the markdown ratio table of
// docs/benchmarks.md. Each benchmark's figure is the median of its runs
// (run with -count 10). The chart is drawn by gonum/plot.
//
//	go test -run '^$' -bench . -benchmem -count 10 ./internal/benchmarks/ > bench.txt
//	go run ./scripts/benchchart < bench.txt > docs/benchmarks.png
//	go run ./scripts/benchchart -table < bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	table := flag.Bool("table", false, "print the markdown ratio table instead of the PNG chart")
	flag.Parse()
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
	if *table {
		err = writeTable(os.Stdout, results)
	} else {
		err = writeChart(os.Stdout, results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
}

// results are the samples of each benchmark, by "pkg/Name" (package path
// relative to the module, name without the -GOMAXPROCS suffix), then by
// unit ("ns/op", "allocs/op", "logins/s", ...).
type results map[string]map[string][]float64

// median returns the median of key's samples in unit, and whether there
// were any.
func (r results) median(key, unit string) (float64, bool) {
	s := slices.Clone(r[key][unit])
	if len(s) == 0 {
		return 0, false
	}
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[len(s)/2], true
}

const module = "github.com/jwtauth/jwtauth/"

// parse reads benchmark lines, each "BenchmarkName-P N value unit value
// unit ...", attributing them to the last "pkg:" line seen.
func parse(in io.Reader) (results, error) {
	r := results{}
	pkg := ""
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), module)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // a "--- BENCH:" or log line
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		key := pkg + "/" + name
		if r[key] == nil {
			r[key] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			r[key][f[i+1]] = append(r[key][f[i+1]], v)
		}
	}
	return r, sc.Err()
}
