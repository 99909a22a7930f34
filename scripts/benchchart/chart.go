package main

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// bar is one bar of a panel: a benchmark's median in the panel's unit.
type bar struct {
	label string
	key   string
	base  bool // a baseline, drawn grey
}

// panel is one group of bars sharing a linear scale.
type panel struct {
	title  string
	unit   string // the benchmark unit read
	format func(float64) string
	bars   []bar
	// speedup appends "N× faster" to the title: the first bar's value over
	// the last one's.
	speedup bool
}

var panels = []panel{
	{
		title: "Authenticate vs golang-jwt ParseWithClaims, per call", unit: "ns/op", format: duration, speedup: true,
		bars: []bar{
			{label: "golang-jwt ParseWithClaims HS256", key: keyBaseline, base: true},
			{label: "jwtauth Authenticate, bigcache", key: keyBigcache},
		},
	},
	{
		title: "Authenticate vs the floor (BenchmarkFloor, same run)", unit: "ns/op", format: duration,
		bars: []bar{
			{label: "floor: base64url, AES-GCM, HMAC", key: keyFloor, base: true},
			{label: "Authenticate, token presented again", key: keyBigcache},
			{label: "Authenticate, token memo off", key: keyFirstUse},
		},
	},
	{
		title: "Cache on vs off: Authenticate on PostgreSQL", unit: "ns/op", format: duration, speedup: true,
		bars: []bar{
			{label: "no cache: 2 PostgreSQL reads", key: keyUncached, base: true},
			{label: "warm bigcache", key: keyCached},
		},
	},
	{
		title: "User from token vs UserLoader on PostgreSQL", unit: "ns/op", format: duration, speedup: true,
		bars: []bar{
			{label: "UserLoader: sqlx SELECT per call", key: keyLoader, base: true},
			{label: "user from the token", key: keyFromToken},
		},
	},
	{
		title: "Login on PostgreSQL, logins/s (higher is better)", unit: "logins/s", format: thousands,
		bars: []bar{
			{label: "1 caller", key: keyLogin1},
			{label: "8 callers, 8 users", key: keyLogin8},
			{label: "8 callers, one user", key: keyLogin8OneUse, base: true},
		},
	},
}

// Layout.
const (
	width       = 12 * vg.Inch
	panelHeight = 1.9 * vg.Inch
	barWidth    = 0.6 // of the space between two bars
	dpi         = 100
)

var (
	grey = color.RGBA{173, 181, 189, 255}
	blue = color.RGBA{25, 113, 194, 255}
)

// writeChart draws the panels whose benchmarks are in r as a PNG: one
// horizontal bar chart per panel, stacked, drawn by gonum/plot.
func writeChart(w io.Writer, r results) error {
	var plots [][]*plot.Plot
	for _, p := range panels {
		pl, err := panelPlot(p, r)
		if err != nil {
			return err
		}
		if pl != nil {
			plots = append(plots, []*plot.Plot{pl})
		}
	}
	if len(plots) == 0 {
		return errors.New("no benchmark of the chart in the input")
	}
	img := vgimg.NewWith(vgimg.UseWH(width, panelHeight*vg.Length(len(plots))), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(24), PadY: vg.Points(12)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// panelPlot returns the bar chart of p, or nil when none of its
// benchmarks are in r.
func panelPlot(p panel, r results) (*plot.Plot, error) {
	var bars []bar
	var values []float64
	for _, b := range p.bars {
		if v, ok := r.median(b.key, p.unit); ok {
			bars = append(bars, b)
			values = append(values, v)
		}
	}
	if len(bars) == 0 {
		return nil, nil
	}
	pl := plot.New()
	pl.Title.Text = p.title
	if n := len(values); p.speedup && n >= 2 && values[n-1] > 0 {
		pl.Title.Text += fmt.Sprintf(": %.1f× faster", values[0]/values[n-1])
	}
	pl.X.Label.Text = p.unit
	pl.X.Min = 0
	labels := make([]string, len(bars))
	pos := make(plotter.XYs, len(bars))
	text := make([]string, len(bars))
	maxV := 0.0
	for i, b := range bars {
		// One chart per bar, so that baselines and candidates differ in
		// colour; in a horizontal chart XMin is the position on the Y axis.
		c, err := plotter.NewBarChart(plotter.Values{values[i]}, vg.Points(1))
		if err != nil {
			return nil, err
		}
		c.Horizontal = true
		c.XMin = float64(i)
		c.Width = barWidth * (panelHeight / vg.Length(len(bars)+2))
		c.Color = blue
		if b.base {
			c.Color = grey
		}
		c.LineStyle.Width = 0
		pl.Add(c)
		labels[i] = b.label
		pos[i] = plotter.XY{X: values[i], Y: float64(i)}
		text[i] = "  " + p.format(values[i])
		maxV = max(maxV, values[i])
	}
	vals, err := plotter.NewLabels(plotter.XYLabels{XYs: pos, Labels: text})
	if err != nil {
		return nil, err
	}
	for i := range vals.TextStyle {
		vals.TextStyle[i].YAlign = draw.YCenter
	}
	pl.Add(vals)
	pl.X.Max = maxV * 1.25 // room for the value labels
	pl.NominalY(labels...)
	pl.X.Tick.Label.Font.Size = vg.Points(9)
	pl.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ticks []plot.Tick
		for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
			if t.Label != "" {
				t.Label = p.format(t.Value)
			}
			ticks = append(ticks, t)
		}
		return ticks
	})
	return pl, nil
}
