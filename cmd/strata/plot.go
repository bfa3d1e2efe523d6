package main

import (
	"fmt"
	"image/color"
	"os"
	"sort"

	"github.com/strata-player/strata/abr/sim"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/live"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
}

// plotCDF writes a PNG with one empirical CDF of per-trace mean QoE per policy.
func plotCDF(path string, sums []sim.Summary, qoe, set string) error {
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
func plotRD(path, title string, curves map[string][]encoder.RDPoint, logRate ...bool) error {
	p := plot.New()
	if len(logRate) > 0 && logRate[0] {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		p.X.Label.Text = "bits per pixel (log scale)"
	}
	p.Title.Text = "RD: " + title
	if p.X.Label.Text == "" {
		p.X.Label.Text = "bits per pixel"
	}
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

// plotEnhance writes a live session's enhancement over time: PSNR-Y of the plain, generic
// and online-enhanced frames per segment (top), and below it the patches' upload rate and
// the training steps per segment, with the segments where the trainer was paused marked.
func plotEnhance(path, title string, rows []live.EnhanceSegment, segS float64) error {
	top := plot.New()
	top.Title.Text = title
	top.Y.Label.Text = "PSNR-Y (dB)"
	top.Add(plotter.NewGrid())
	top.Legend.Top = false
	bot := plot.New()
	bot.X.Label.Text = "time (s)"
	bot.Y.Label.Text = "per segment"
	bot.Add(plotter.NewGrid())
	bot.Legend.Top = true
	bot.Legend.Left = true
	var plain, gen, on, kbps, steps, paused plotter.XYs
	for _, r := range rows {
		plain = append(plain, plotter.XY{X: r.TimeS, Y: r.PlainY})
		gen = append(gen, plotter.XY{X: r.TimeS, Y: r.GenericY})
		on = append(on, plotter.XY{X: r.TimeS, Y: r.OnlineY})
		kbps = append(kbps, plotter.XY{X: r.TimeS, Y: float64(r.PatchBytes) * 8 / segS / 1000})
		steps = append(steps, plotter.XY{X: r.TimeS, Y: float64(r.Steps) / 10})
		if r.Paused {
			paused = append(paused, plotter.XY{X: r.TimeS, Y: 0})
		}
	}
	series := []struct {
		name string
		pts  plotter.XYs
	}{{"plain decoded", plain}, {"generic model", gen}, {"online model", on}}
	for i, s := range series {
		if s.name == "generic model" && rows[0].GenericY == 0 {
			continue
		}
		if err := addSeries(top, s.name, s.pts, i); err != nil {
			return err
		}
	}
	if err := addSeries(bot, "patches (kbit/s)", kbps, 3); err != nil {
		return err
	}
	if err := addSeries(bot, "training steps / 10", steps, 4); err != nil {
		return err
	}
	if len(paused) > 0 {
		s, err := plotter.NewScatter(paused)
		if err != nil {
			return err
		}
		s.Color = palette[7]
		s.Radius = vg.Points(4)
		bot.Add(s)
		bot.Legend.Add("trainer paused", s)
	}
	bot.X.Min, bot.X.Max = top.X.Min, top.X.Max
	img := vgimg.New(8*vg.Inch, 7*vg.Inch)
	dc := draw.New(img)
	canv := plot.Align([][]*plot.Plot{{top}, {bot}}, draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}, dc)
	top.Draw(canv[0][0])
	bot.Draw(canv[1][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
