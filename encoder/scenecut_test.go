package encoder

import (
	"sort"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/testclip"
)

// TestSceneCut is the codec's scene-cut check (issue: "two different test clips spliced
// inside a sub-GOP"): carphone's frames 0–4, then bus's from frame 0, 17 frames, S = 8 with
// intra anchors, the encoder deciding intra/inter per frame. At every k no frame after the
// cut may be more than 3 dB below the median of the frames after the cut in PSNR-Y, -U or
// -V (a retired codec lost 8 dB of PSNR-U on such a splice: a green picture until the anchor).
// Every preset: the live one tries intra only after its scene-cut test, which must fire.
func TestSceneCut(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end encode: make test runs it in its pass without -race -short")
	}
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	const cut, n = 5, 17
	_, a := testclip.Frames(t, "test", "carphone_qcif", cut)
	_, b := testclip.Frames(t, "test", "bus_qcif", n-cut)
	frames := append(append([]*decoder.Frame{}, a...), b...)
	for _, p := range Presets {
		t.Run(p.Name, func(t *testing.T) { sceneCut(t, m, p, frames, cut) })
	}
}

func sceneCut(t *testing.T, m *decoder.Model, p Preset, frames []*decoder.Frame, cut int) {
	n := len(frames)
	enc := &SegmentEncoder{Model: m, S: 8, Layers: decoder.Layers, IntraAnchors: true}
	p.Apply(enc)
	enc.ReconAll = true
	out, err := enc.Encode(frames, 0)
	if err != nil {
		t.Fatal(err)
	}
	var intra []int
	for f, in := range out.Segment.Intra {
		if in {
			intra = append(intra, f)
		}
	}
	t.Logf("intra-coded frames: %v", intra)
	for k := 1; k <= decoder.Layers; k++ {
		var q [3][]float64
		for f := cut; f < n; f++ {
			m := MeasurePSNR(frames[f], out.Recon[k-1][f])
			q[0], q[1], q[2] = append(q[0], m.PSNRY), append(q[1], m.PSNRU), append(q[2], m.PSNRV)
		}
		for c, name := range []string{"Y", "U", "V"} {
			s := append([]float64(nil), q[c]...)
			sort.Float64s(s)
			med := (s[(len(s)-1)/2] + s[len(s)/2]) / 2
			t.Logf("k=%d PSNR-%s after the cut: median %.2f dB, worst %.2f dB, frames %.1f", k, name, med, s[0], q[c])
			if s[0] < med-3 {
				t.Errorf("k=%d: a frame after the cut is %.2f dB below the median PSNR-%s (%.2f dB)", k, med-s[0], name, med)
			}
		}
	}
}

// TestSceneCutTest: the live preset's cheap test fires on a prediction from another clip and
// stays quiet on the previous frame of the same one.
func TestSceneCutTest(t *testing.T) {
	_, a := testclip.Frames(t, "test", "carphone_qcif", 2)
	_, b := testclip.Frames(t, "test", "bus_qcif", 1)
	e := &SegmentEncoder{SceneCut: DefaultSceneCut}
	w, h := a[0].W, a[0].H
	if !e.sceneCut(a[1].Y, b[0].Y, w, h) {
		t.Error("a bus frame as carphone's prediction: no scene cut detected")
	}
	if e.sceneCut(a[1].Y, a[0].Y, w, h) {
		t.Error("carphone's previous frame as its prediction: a scene cut detected")
	}
}
