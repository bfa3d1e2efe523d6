package encoder

import (
	"fmt"
	"strings"
)

// Preset is a named set of encoder decisions (strata encode --preset): what it turns off or
// makes cheaper, applied to a SegmentEncoder before it runs. docs/RESULTS.md has each
// preset's measured speed and BD-rate cost.
type Preset struct {
	Name, About string
	apply       func(*SegmentEncoder)
}

// Apply sets the preset's decisions on e (the other fields are left as they are); the
// zero Preset changes nothing.
func (p Preset) Apply(e *SegmentEncoder) {
	if p.apply != nil {
		p.apply(e)
	}
}

// Presets: quality (the default: every decision as measured best) and live (the decisions
// whose cost a real-time encoder cannot pay, replaced by cheap ones). Measured on carphone
// (60 frames, S = 32, BD-rate vs x264 medium; quality +72.3 %): no deferral trial +79.7 %
// (and +20.9 points on flower), the plain dead-zone quantizer instead of RD quantization
// +293.5 % — both far too dear for what they save, so live keeps them. The analysis
// transform's linear branch alone (about 6× less analysis work) was tried too and is not
// offered: on 40 frames of the demo's source its top layer took 38 % more bits for 2.75 dB
// less PSNR-Y.
var Presets = []Preset{
	{Name: "quality", About: "every decision by rate–distortion: intra/inter trial of each predicted frame, RD quantization, deferred motion", apply: func(*SegmentEncoder) {}},
	{Name: "live", About: "the intra trial only after a cheap scene-cut test; never-referenced frames reconstructed at the top layer only, their motion deferred by prediction error",
		apply: func(e *SegmentEncoder) {
			e.SceneCut = DefaultSceneCut
			e.TopOnlyUnreferenced = true
		}},
}

// PresetByName returns the preset called name.
func PresetByName(name string) (Preset, error) {
	var names []string
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("preset %q: want %s", name, strings.Join(names, " or "))
}

// DefaultSceneCut is the live preset's scene-cut threshold: a predicted frame is also tried
// intra when its top-layer prediction's mean absolute luma error exceeds this fraction of
// the frame's luma activity (mean absolute deviation from each 8×8 block's mean) and
// sceneCutLevel.
const DefaultSceneCut = 0.6

// sceneCutLevel is the scene-cut test's floor on the mean absolute luma error per pixel (8-bit
// levels): flat pictures have almost no activity, and ordinary motion on the test clips
// leaves 2–7 levels (a splice of two clips: over 20).
const sceneCutLevel = 12

// sceneCut reports whether prediction pred of frame orig is poor enough (SceneCut) that the
// intra candidate should be tried.
func (e *SegmentEncoder) sceneCut(orig, pred []byte, w, h int) bool {
	var errSum, act int64
	for by := 0; by+8 <= h; by += 8 {
		for bx := 0; bx+8 <= w; bx += 8 {
			sum := 0
			for y := 0; y < 8; y++ {
				for _, v := range orig[(by+y)*w+bx : (by+y)*w+bx+8] {
					sum += int(v)
				}
			}
			mean := (sum + 32) >> 6
			for y := 0; y < 8; y++ {
				o := orig[(by+y)*w+bx : (by+y)*w+bx+8]
				p := pred[(by+y)*w+bx : (by+y)*w+bx+8]
				for x, v := range o {
					act += int64(abs(int(v) - mean))
					errSum += int64(abs(int(v) - int(p[x])))
				}
			}
		}
	}
	return float64(errSum) > e.SceneCut*float64(act) && errSum > sceneCutLevel*int64(w*h)
}
