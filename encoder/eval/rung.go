package eval

import (
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
)

// RungCurve is one rung's RD curve against the full-resolution source.
type RungCurve struct {
	Name   string            `json:"name"`
	Kbps   []float64         `json:"kbps"`
	Points []encoder.RDPoint `json:"points"`
}

// EncodeRung codes frames with the shipped model (the encoder's reconstructions are bit for bit the
// decoder's) and returns each layer count's bytes and decoded frames.
func EncodeRung(frames []*decoder.Frame, segFrames, subgop int) ([]int, [][]*decoder.Frame, error) {
	m, err := decoder.Default()
	if err != nil {
		return nil, nil, err
	}
	enc := &encoder.SegmentEncoder{Model: m, S: subgop, Layers: decoder.Layers, IntraAnchors: subgop > 1}
	bytes := make([]int, decoder.Layers)
	recon := make([][]*decoder.Frame, decoder.Layers)
	for seg := 0; seg*segFrames < len(frames); seg++ {
		batch := frames[seg*segFrames : min(len(frames), (seg+1)*segFrames)]
		e, err := enc.Encode(batch, uint32(seg))
		if err != nil {
			return nil, nil, err
		}
		for l := 0; l < decoder.Layers; l++ {
			u, err := e.Segment.AppendUnit(nil, l)
			if err != nil {
				return nil, nil, err
			}
			for k := l; k < decoder.Layers; k++ {
				bytes[k] += len(u)
			}
			for _, f := range e.Recon[l] {
				// The codec codes a padded frame; the rung is its visible part.
				recon[l] = append(recon[l], decoder.Crop(f, batch[0].W, batch[0].H, nil))
			}
		}
	}
	return bytes, recon, nil
}

// Rungs measures a source's rungs with the shipped model at sub-GOP size subgop, two-second
// segments at fps: the full-resolution rung, and half-resolution rungs made by bicubic
// and by the learned downsampler down, each shown through the bicubic double and through
// the learned upsampler up. PSNR-Y is against src; rates are per source pixel.
func Rungs(src []*decoder.Frame, fps float64, subgop int, down func(*decoder.Frame) *decoder.Frame, up *enhance.Net) ([]RungCurve, error) {
	w, h := src[0].W, src[0].H

	segFrames := max(1, int(2*fps+0.5))
	srcPixels := float64(w * h * len(src))
	curve := func(name string, bytes []int, recon [][]*decoder.Frame, net *enhance.Net) RungCurve {
		c := RungCurve{Name: name}
		var s enhance.Scratch
		var work *decoder.Frame
		for k := range bytes {
			var y float64
			for i, f := range recon[k] {
				if f.W != w || f.H != h {
					work = enhance.Double(work, f, w, h, net, &s, 0)
					f = work
				}
				y += encoder.MeasurePSNR(src[i], f).PSNRY
			}
			c.Kbps = append(c.Kbps, float64(bytes[k])*8*fps/float64(len(src))/1000)
			c.Points = append(c.Points, encoder.RDPoint{BPP: float64(bytes[k]) * 8 / srcPixels, PSNR: y / float64(len(src))})
		}
		return c
	}
	var curves []RungCurve
	fb, fr, err := EncodeRung(src, segFrames, subgop)
	if err != nil {
		return nil, err
	}
	curves = append(curves, curve("full resolution", fb, fr, nil))
	for _, r := range []struct {
		name string
		down func(*decoder.Frame) *decoder.Frame
	}{{"bicubic", enhance.BicubicDown}, {"learned", down}} {
		half := make([]*decoder.Frame, len(src))
		for i, f := range src {
			half[i] = r.down(f)
		}
		b, rec, err := EncodeRung(half, segFrames, subgop)
		if err != nil {
			return nil, err
		}
		if r.name == "bicubic" {
			curves = append(curves, curve("half: bicubic down, bicubic up", b, rec, nil))
			curves = append(curves, curve("half: bicubic down, learned up", b, rec, up))
		} else {
			curves = append(curves, curve("half: learned down, bicubic up", b, rec, nil))
			curves = append(curves, curve("half: learned down, learned up", b, rec, up))
		}
	}
	return curves, nil
}

// RungBD is one BD-rate between two rungs (nil where the curves do not overlap, Err says why).
type RungBD struct {
	Test, Anchor string
	Cubic, PCHIP *float64
	Err          string `json:",omitempty"`
}

// RungBDRates compares Rungs' curves: the learned pair, learned up alone and learned down
// alone against bicubic down/up, and the learned pair and bicubic against full resolution.
func RungBDRates(curves []RungCurve) []RungBD {
	var bds []RungBD
	for _, pair := range [][2]int{{4, 1}, {2, 1}, {3, 1}, {4, 0}, {1, 0}} {
		t, a := curves[pair[0]], curves[pair[1]]
		row := RungBD{Test: t.Name, Anchor: a.Name}
		if v, err := encoder.BDRate(a.Points, t.Points); err == nil {
			row.Cubic = &v
		} else {
			row.Err = err.Error()
		}
		if v, err := encoder.BDRatePCHIP(a.Points, t.Points); err == nil {
			row.PCHIP = &v
		}
		bds = append(bds, row)
	}
	return bds
}
