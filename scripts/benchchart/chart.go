package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
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

// Layout, in pixels.
const (
	width    = 1200
	margin   = 24
	scale    = 2 // font pixel size
	lineH    = 7 * scale
	labelW   = 40 * 6 * scale // room for 40 characters
	barH     = 24
	barGap   = 10
	valueW   = 12 * 6 * scale
	panelGap = 28
)

var (
	white = color.RGBA{255, 255, 255, 255}
	ink   = color.RGBA{33, 37, 41, 255}
	grey  = color.RGBA{173, 181, 189, 255}
	blue  = color.RGBA{25, 113, 194, 255}
)

// writeChart draws the panels whose benchmarks are in r as a PNG.
func writeChart(w io.Writer, r results) error {
	type drawn struct {
		p      panel
		values []float64
		bars   []bar
	}
	var ds []drawn
	height := margin
	for _, p := range panels {
		d := drawn{p: p}
		for _, b := range p.bars {
			if v, ok := r.median(b.key, p.unit); ok {
				d.bars = append(d.bars, b)
				d.values = append(d.values, v)
			}
		}
		if len(d.bars) == 0 {
			continue
		}
		ds = append(ds, d)
		height += lineH + barGap + len(d.bars)*(barH+barGap) + panelGap
	}
	if len(ds) == 0 {
		return errors.New("no benchmark of the chart in the input")
	}
	height += lineH + margin
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), white)

	y := margin
	for _, d := range ds {
		title := d.p.title
		if n := len(d.values); d.p.speedup && n >= 2 && d.values[n-1] > 0 {
			title += fmt.Sprintf(": %.1f× faster", d.values[0]/d.values[n-1])
		}
		drawText(img, margin, y, scale, title, ink)
		y += lineH + barGap
		maxV := 0.0
		for _, v := range d.values {
			maxV = max(maxV, v)
		}
		barSpace := width - 2*margin - labelW - valueW
		for i, b := range d.bars {
			drawText(img, margin, y+(barH-lineH)/2, scale, b.label, ink)
			n := max(2, int(float64(barSpace)*d.values[i]/maxV))
			c := blue
			if b.base {
				c = grey
			}
			x0 := margin + labelW
			fill(img, image.Rect(x0, y, x0+n, y+barH), c)
			drawText(img, x0+n+8, y+(barH-lineH)/2, scale, d.p.format(d.values[i]), ink)
			y += barH + barGap
		}
		y += panelGap
	}
	drawText(img, margin, y, scale, "median of the runs, all in one run on one machine - see docs/benchmarks.md", grey)
	return png.Encode(w, img)
}

// fill paints rect with c.
func fill(img *image.RGBA, rect image.Rectangle, c color.Color) {
	draw.Draw(img, rect, &image.Uniform{C: c}, image.Point{}, draw.Src)
}
