package main

import (
	"fmt"
	"image/color"
	"sort"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/encoder"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
}

// plotCDF writes a PNG with one empirical CDF of per-trace mean QoE per policy.
func plotCDF(path string, sums []abr.Summary, qoe, set string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Per-trace QoE (%s, mean over chunks 1..), %s", qoe, set)
	p.X.Label.Text = "QoE per chunk"
	p.Y.Label.Text = "CDF over traces"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	for i, s := range sums {
		v := append([]float64(nil), s.PerTraceQoE...)
		sort.Float64s(v)
		pts := make(plotter.XYs, 0, 2*len(v))
		for j, x := range v {
			pts = append(pts, plotter.XY{X: x, Y: float64(j) / float64(len(v))})
			pts = append(pts, plotter.XY{X: x, Y: float64(j+1) / float64(len(v))})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%.3f)", s.Policy, s.QoEMean), l)
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// plotRD writes rate-distortion curves (PSNR-Y over bits per pixel).
func plotRD(path, title string, curves map[string][]encoder.RDPoint) error {
	p := plot.New()
	p.Title.Text = "RD: " + title
	p.X.Label.Text = "bits per pixel"
	p.Y.Label.Text = "PSNR-Y (dB)"
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.Left = false
	names := make([]string, 0, len(curves))
	for n := range curves {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		c := append([]encoder.RDPoint(nil), curves[n]...)
		sort.Slice(c, func(a, b int) bool { return c[a].BPP < c[b].BPP })
		pts := make(plotter.XYs, len(c))
		for j, q := range c {
			pts[j] = plotter.XY{X: q.BPP, Y: q.PSNR}
		}
		if err := addSeries(p, n, pts, i); err != nil {
			return err
		}
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// plotBench writes frames/s over sub-GOP size, one line per backend and resolution.
func plotBench(path string, rs []benchResult) error {
	p := plot.New()
	p.Title.Text = "Decode speed per sub-GOP size"
	p.X.Label.Text = "sub-GOP size S"
	p.Y.Label.Text = "frames/s"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	series := map[string]plotter.XYs{}
	var names []string
	for _, r := range rs {
		k := r.Backend + " " + r.Res
		if _, ok := series[k]; !ok {
			names = append(names, k)
		}
		series[k] = append(series[k], plotter.XY{X: float64(r.SubGOP), Y: r.FPS})
	}
	for i, n := range names {
		if err := addSeries(p, n, series[n], i); err != nil {
			return err
		}
	}
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

// addSeries adds a line with points in the i-th palette colour, with a legend entry.
func addSeries(p *plot.Plot, name string, pts plotter.XYs, i int) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color = palette[i%len(palette)]
	s.Color = l.Color
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}
