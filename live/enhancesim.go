package live

import (
	"math/rand/v2"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/encoder"
)

// EnhanceSegment is one segment of a simulated live session with online enhancement.
type EnhanceSegment struct {
	Segment    int     `json:"segment"`
	TimeS      float64 `json:"t_s"`
	PlainY     float64 `json:"psnr_y_plain"`
	GenericY   float64 `json:"psnr_y_generic,omitempty"`
	OnlineY    float64 `json:"psnr_y_online"`
	PatchBytes int     `json:"patch_bytes"`
	Steps      int     `json:"steps"`
	Paused     bool    `json:"paused"`
	Scene      bool    `json:"scene_change"`
	ValGainDB  float64 `json:"val_gain_db"`
	Published  bool    `json:"published"` // a new version beat the starting model
	// InteriorGain is the online model's gain away from the frame's edges (16 pixels).
	InteriorGain float64 `json:"interior_gain_db"`
}

// EnhanceSimOptions configure SimulateEnhancement.
type EnhanceSimOptions struct {
	SegFrames int     // frames per segment
	SegmentS  float64 // its duration in seconds
	Patch     int     // patch size (pixels)
	Patches   int     // patches the streamer sends per segment
	Steps     int     // training steps per segment (the trainer's budget)
	Lag       int     // a segment is enhanced with the model published this many segments after it
	Every     int     // measure every n-th frame
	Seed      uint64  // the patch sampler's
	// Net is the model trained online (a clone of Generic, or a new one); Generic, if set,
	// is the prepared starting model, measured unchanged beside it.
	Net, Generic *enhance.Net
	Online       enhance.OnlineConfig
}

// EnhanceSim is what SimulateEnhancement measured.
type EnhanceSim struct {
	Segments   []EnhanceSegment
	PatchBytes int           // the bundles' bytes in all
	Steps      int           // training steps in all
	TrainTime  time.Duration // spent training
	Pauses     int           // the trainer's pauses (saturation) and resumes
	Resumes    int
}

// SimulateEnhancement runs LiveNAS on a clip without a network: for each of nseg segments
// the streamer picks patches where dec (the clip as the player decodes it, at the source's
// size) is worst against src, the origin's online trainer trains on them and publishes a
// version when it beats the starting model, and the player enhances the segment with the
// version published Lag segments later; PSNR-Y is measured plain, generic and online.
func SimulateEnhancement(src, dec []*decoder.Frame, nseg int, o EnhanceSimOptions) (*EnhanceSim, error) {
	w, h := src[0].W, src[0].H
	on := enhance.NewOnline(o.Net, o.Online)
	r := rand.New(rand.NewPCG(o.Seed, 3))
	models := make([]*enhance.Net, nseg)
	var rows []EnhanceSegment
	patchBytes := 0
	trainTime := time.Duration(0)
	for i := 0; i < nseg; i++ {
		row := EnhanceSegment{Segment: i, TimeS: float64(i+1) * o.SegmentS}
		lo, hi := i*o.SegFrames, (i+1)*o.SegFrames
		// The streamer: a scene change, and patches where the codec did worst on two frames.
		for f := lo + 1; f < hi; f++ {
			if encoder.MeasurePSNR(src[f], src[f-1]).PSNRY < 18 {
				row.Scene = true
			}
		}
		var ps []enhance.Patch
		for _, f := range []int{lo + o.SegFrames/4, lo + 3*o.SegFrames/4} {
			for _, c := range enhance.WorstCrops(src[f], dec[f], o.Patch, (o.Patches+1)/2, r) {
				ps = append(ps, enhance.Cut(src[f], dec[f], c))
			}
		}
		ps = ps[:min(len(ps), o.Patches)]
		// The bytes are those of the bundle the streamer sends (MarshalPatches).
		sp := make([]SourcePatch, len(ps))
		for k, p := range ps {
			sp[k] = SourcePatch{Size: p.W, Luma: p.Source}
		}
		bundle, err := MarshalPatches(sp)
		if err != nil {
			return nil, err
		}
		row.PatchBytes = len(bundle)
		patchBytes += row.PatchBytes
		// The origin's trainer, until the next segment is published.
		on.Add(ps, row.Scene)
		ts := time.Now()
		row.Steps = on.Train(o.Steps)
		trainTime += time.Since(ts)
		row.Paused, row.ValGainDB = on.Paused(), on.Gain()
		// The origin publishes a version only when it beats the starting model on the
		// held-out patches; until then players keep the last one published.
		switch {
		case on.BeatsStart() || (i == 0 && o.Generic == nil):
			models[i] = on.Snapshot()
			row.Published = true
		case i == 0:
			models[i] = o.Generic
		default:
			models[i] = models[i-1]
		}
		rows = append(rows, row)
	}
	// The player: segment i enhanced with the model published lag segments later.
	var sc enhance.Scratch
	work := decoder.NewFrame(w, h)
	for i := range rows {
		m := models[min(i+o.Lag, nseg-1)]
		var plain, gen, online, pin, oin float64
		n := 0
		for f := i * o.SegFrames; f < (i+1)*o.SegFrames; f += o.Every {
			plain += encoder.MeasurePSNR(src[f], dec[f]).PSNRY
			copy(work.Y, dec[f].Y)
			m.Apply(work, &sc, 0)
			online += encoder.MeasurePSNR(src[f], work).PSNRY
			pin += psnrInterior(src[f].Y, dec[f].Y, w, h, 16)
			oin += psnrInterior(src[f].Y, work.Y, w, h, 16)
			if o.Generic != nil {
				copy(work.Y, dec[f].Y)
				o.Generic.Apply(work, &sc, 0)
				gen += encoder.MeasurePSNR(src[f], work).PSNRY
			}
			n++
		}
		rows[i].PlainY, rows[i].OnlineY = plain/float64(n), online/float64(n)
		rows[i].InteriorGain = (oin - pin) / float64(n)
		if o.Generic != nil {
			rows[i].GenericY = gen / float64(n)
		}
	}
	return &EnhanceSim{Segments: rows, PatchBytes: patchBytes, Steps: on.Steps(), TrainTime: trainTime,
		Pauses: on.Pauses, Resumes: on.Resumes}, nil
}

// psnrInterior is the luma PSNR without a border of b pixels.
func psnrInterior(a, c []byte, w, h, b int) float64 {
	s, n := 0.0, 0
	for y := b; y < h-b; y++ {
		for x := b; x < w-b; x++ {
			d := float64(a[y*w+x]) - float64(c[y*w+x])
			s += d * d
			n++
		}
	}
	return encoder.PSNR(s / float64(n))
}
