// Command benchhttp measures the HTTP cost of jwtauth's Echo middleware
// with an external load generator: it starts five server processes
// serving the same trivial handler (bare Echo; bare Echo sent jwtauth's
// request, token ignored; Echo + only the floor's work on that token, see
// internal/floor; Echo + labstack/echo-jwt; Echo + echoauth), loads each
// in turn with wrk for several alternating rounds, and prints requests/s,
// latency percentiles and the server's CPU time per request (user +
// system, from the server process's rusage) as a markdown table with
// ratios to bare Echo and to the floor server.
//
// When taskset is available, the servers are pinned to CPU 0 and wrk to
// CPU 1, so load generator and server do not take turns on one core.
//
//	go run ./scripts/benchhttp                       # 3 rounds of 5 s
//	go run ./scripts/benchhttp -rounds 5 -duration 10s
//
// To profile one server under load, run it alone and point wrk at the URL
// it prints (with its headers); it writes the profile on SIGTERM or ^C:
//
//	go run ./scripts/benchhttp -serve jwtauth -cpuprofile /tmp/cpu.out
//
// It needs wrk (Debian package wrk; scripts/bench installs it).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	serve := flag.String("serve", "", "internal: run one server (bare, bare-token, floor, echo-jwt or jwtauth) and print its target")
	rounds := flag.Int("rounds", 3, "rounds; each loads every server once, alternating the order")
	duration := flag.Duration("duration", 5*time.Second, "wrk duration per server and round")
	conns := flag.Int("conns", 16, "wrk connections")
	cpuProfile := flag.String("cpuprofile", "", "with -serve: write the server's CPU profile to this file when it stops")
	flag.Parse()
	var err error
	if *serve != "" {
		err = runServer(*serve, os.Stdout, *cpuProfile)
	} else {
		err = run(os.Stdout, *rounds, *duration, *conns)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}

// target is what a server process prints on its first line.
type target struct {
	Name    string            `json:"name"`
	URL     string            `json:"url"`
	CPUURL  string            `json:"cpu_url"`
	Headers map[string]string `json:"headers"`
}

// server is a running server process.
type server struct {
	target
	cmd *exec.Cmd
}

// sample is one wrk run against one server.
type sample struct {
	requests int
	rate     float64       // requests/s
	p50, p99 time.Duration // latency
	cpu      time.Duration // server CPU time (user + system) during the run
}

// servers are the server kinds, in report order: bare Echo; bare Echo
// sent jwtauth's request (token ignored); Echo + the floor's work on that
// token; Echo + echo-jwt; Echo + echoauth.
var servers = []string{"bare", "bare-token", "floor", "echo-jwt", "jwtauth"}

func run(w io.Writer, rounds int, duration time.Duration, conns int) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: apt-get install wrk")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	_, pinErr := exec.LookPath("taskset")
	pinned := pinErr == nil
	var procs []*server
	defer func() {
		for _, s := range procs {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	}()
	for _, name := range servers {
		s, err := start(self, name, pinned)
		if err != nil {
			return err
		}
		procs = append(procs, s)
	}
	for _, s := range procs { // warm up: connections, caches, the heap
		if _, err := load(s, time.Second, conns, pinned); err != nil {
			return err
		}
	}
	results := map[string][]sample{}
	for r := range rounds {
		order := slices.Clone(procs)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			sm, err := load(s, duration, conns, pinned)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "round %d %-9s %8.0f req/s  p50 %v  p99 %v  %.2f µs CPU/req\n",
				r+1, s.Name, sm.rate, sm.p50, sm.p99, perRequest(sm.cpu, sm.requests))
			results[s.Name] = append(results[s.Name], sm)
		}
	}
	report(w, results, rounds, duration, conns, pinned)
	return nil
}

// start runs self -serve name and reads its target.
func start(self, name string, pinned bool) (*server, error) {
	args := []string{self, "-serve", name}
	if pinned {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...) // #nosec G204 -- our own binary
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s: no target: %w", name, err)
	}
	s := &server{cmd: cmd}
	if err := json.Unmarshal(line, &s.target); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// load runs wrk against s and reads s's CPU time before and after.
func load(s *server, d time.Duration, conns int, pinned bool) (sample, error) {
	before, err := cpuTime(s.CPUURL)
	if err != nil {
		return sample{}, err
	}
	args := []string{"wrk", "-t1", "-c" + strconv.Itoa(conns), "-d" + d.String(), "--latency"}
	for k, v := range s.Headers {
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, s.URL)
	if pinned {
		args = append([]string{"taskset", "-c", "1"}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput() // #nosec G204 -- fixed tool, our own targets
	if err != nil {
		return sample{}, fmt.Errorf("wrk %s: %w: %s", s.Name, err, out)
	}
	after, err := cpuTime(s.CPUURL)
	if err != nil {
		return sample{}, err
	}
	sm, err := parseWrk(string(out))
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	sm.cpu = after - before
	return sm, nil
}

// cpuTime asks a server for its process CPU time.
func cpuTime(url string) (time.Duration, error) {
	res, err := http.Get(url) // #nosec G107 -- a 127.0.0.1 URL of our own server
	if err != nil {
		return 0, err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	us, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(us) * time.Microsecond, err
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)`)
)

// parseWrk reads what wrk --latency printed; any non-2xx answer or socket
// error is an error.
func parseWrk(out string) (sample, error) {
	if m := wrkErrors.FindString(out); m != "" {
		return sample{}, fmt.Errorf("wrk: %s", m)
	}
	var sm sample
	m := wrkRequests.FindStringSubmatch(out)
	r := wrkRate.FindStringSubmatch(out)
	if m == nil || r == nil {
		return sample{}, fmt.Errorf("unexpected wrk output: %s", out)
	}
	sm.requests, _ = strconv.Atoi(m[1])
	sm.rate, _ = strconv.ParseFloat(r[1], 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			sm.p50 = d
		} else {
			sm.p99 = d
		}
	}
	return sm, nil
}

func perRequest(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(n)
}

// median returns the median of f over the samples.
func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func report(w io.Writer, res map[string][]sample, rounds int, d time.Duration, conns int, pinned bool) {
	where := "servers and wrk share the CPUs"
	if pinned {
		where = "servers pinned to CPU 0 (GOMAXPROCS=1), wrk to CPU 1"
	}
	fmt.Fprintf(w, "wrk, %d alternating rounds of %v per server, %d connections; %s; medians of the rounds\n\n", rounds, d, conns, where)
	fmt.Fprintln(w, "| server | requests/s | p50 | p99 | server CPU per request | requests/s vs bare | CPU per request vs bare | requests/s vs floor |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	rate := func(s sample) float64 { return s.rate }
	cpu := func(s sample) float64 { return perRequest(s.cpu, s.requests) }
	bareRate, bareCPU := median(res["bare"], rate), median(res["bare"], cpu)
	floorRate := median(res["floor"], rate)
	for _, name := range servers {
		s := res[name]
		p50 := time.Duration(median(s, func(s sample) float64 { return float64(s.p50) }))
		p99 := time.Duration(median(s, func(s sample) float64 { return float64(s.p99) }))
		fmt.Fprintf(w, "| %s | %.0f | %v | %v | %.2f µs | %.2f× | %.2f× | %.2f× |\n", name, median(s, rate),
			p50.Round(time.Microsecond), p99.Round(time.Microsecond), median(s, cpu),
			median(s, rate)/bareRate, median(s, cpu)/bareCPU, median(s, rate)/floorRate)
	}
}
