package encoder

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/tensor"
)

// DefaultModeLambda is λ_K of the codec's training (encoder/train/train.py): the encoder's
// intra/inter decision minimises J = R + λ·D with R in bits per luma pixel and D the
// (6·MSE_Y + MSE_U + MSE_V)/8 of the top layer in 8-bit units².
const DefaultModeLambda = 0.0625

// SegmentEncoder codes segments with the codec (docs/BITSTREAM.md, version 2). Every layer
// of a frame is computed once, on the prediction of clients holding every layer (the top
// chain); every chain k is then reconstructed exactly as a client holding k layers decodes
// it, so Recon is bit for bit what each client sees (drift is measured, not guessed).
type SegmentEncoder struct {
	Model        *decoder.Model
	S            int  // sub-GOP size
	Layers       int  // K ≤ decoder.Layers
	Workers      int  // goroutines (0: one per CPU)
	IntraAnchors bool // code every anchor as an I-frame
	// NoModes codes every frame that has a reference as a P-frame; by default each is also
	// coded intra and the mode with the lower J = R + ModeLambda·D is kept.
	NoModes    bool
	ModeLambda float64 // 0: DefaultModeLambda
	// MVLambda is SmoothRD's λ (SAD per bit of vector code); 0: DefaultMVLambda, < 0: the
	// searched vectors as they are.
	MVLambda int
	// BiModeLambda is BlockModesRD's λ (SAD per bit); 0: DefaultBiModeLambda, < 0: the
	// SAD-only rule of BlockModes.
	BiModeLambda int
	// Stats, when set, receives every coded layer's symbols (decoder.Model.Count; the tables'
	// refit, `strata refit-tables`); encoders that share it must not run concurrently.
	Stats   *decoder.Stats
	statsMu sync.Mutex
	// RD scales the λ of the rate–distortion-optimised quantization (decoder.QuantizeRD): layer
	// l's decisions use RD·λ_l of the model's training (×intra_lambda for I-frames); 0:
	// DefaultRD, < 0: the plain dead-zone quantizer.
	RD float64
	// OriginalRefs chooses vectors and block modes on the original reference frames, as the
	// training pool does; by default they are chosen on the top chain's decoded references,
	// the prediction the stream actually makes.
	OriginalRefs bool
	// DeferLambda scales the λ of the deferred-motion decision (deferMotion); 0:
	// DefaultDeferLambda, < 0: every frame's motion in unit 0.
	DeferLambda float64
	// SceneCut, when positive, tries the intra candidate of a predicted frame only when its
	// prediction is poor (sceneCut: mean absolute luma error above SceneCut × the frame's
	// luma activity) instead of always; the live preset's scene-cut test.
	SceneCut float64
	// TopOnlyUnreferenced reconstructs the frames no other frame predicts from at the top
	// layer only (the one the intra/inter decision needs), and decides where a deferrable
	// frame's motion goes from its top-chain predictions (deferByPrediction) instead of from
	// three more reconstructions; the live preset's decision. Their lower chains are nil in
	// Encoded.Recon unless ReconAll or sampled (SampleUnreferenced). The bitstream does not
	// depend on either.
	TopOnlyUnreferenced bool
	// ReconAll reconstructs every chain of every frame even with TopOnlyUnreferenced (for
	// measuring: codec-eval, strata encode's quality rows).
	ReconAll bool
	// SampleUnreferenced, with TopOnlyUnreferenced, still reconstructs every chain of one in
	// this many never-referenced frames, so that Encoded.Levels estimates the others (the
	// live encoder's quality rows; 0: none).
	SampleUnreferenced int
}

// DefaultMVLambda is SmoothRD's default λ. Measured with the step-15,950 weights and the
// rate–distortion quantizer (33 frames, S = 32, PSNR-Y BD-rate against the previous
// median-only smoothing at penalty 64): λ = 8, 16, 32, 48, 64, 96: carphone −1.0, −2.9, −4.3,
// −4.9, −5.2, −3.1 %; bus (32, 48, 64) −3.0, −2.9, −2.3 %.
const DefaultMVLambda = 48

// DefaultBiModeLambda is BlockModesRD's default λ (SAD per bit). Measured like
// DefaultMVLambda (S = 32, against the SAD-only rule): λ = 16, 24, 48: carphone −1.0, −0.9,
// +0.8 %; bus −0.1, +0.1, +1.3 %; flower (20 frames) −4.1, −5.7, −7.9 %.
const DefaultBiModeLambda = 24

func (e *SegmentEncoder) biModeLambda() int {
	if e.BiModeLambda == 0 {
		return DefaultBiModeLambda
	}
	return max(e.BiModeLambda, 0)
}

// DefaultRD is SegmentEncoder.RD's default, with a λ cascade over the frame kinds: an
// I-frame's λ is 2 × intra_lambda × RD·λ_l, a predicted frame's rdClassScale[distance class]
// × RD·λ_l (frames that serve as references deeper in the tree get more quality, the
// never-referenced distance-1 frames less). Measured with the step-15,950 weights
// (17 frames, S = 8, PSNR-Y BD-rate against the dead-zone quantizer alone, docs/MODEL.md):
// RD = 1.5, 2, 3, 4 without the cascade: −14.7, −16.2, −17.2, −16.6 % (carphone); RD = 3 with
// it: carphone −20.2 %, bus −11.9 %, flower (9 frames) −10.0 %. With the entropy tables
// re-fitted to the encoder's symbols (strata refit-tables; 33 frames, S = 32), RD = 2 beats 3
// by 2.5 % (carphone), 0.2 % (bus) and 2.7 % (flower, 20 frames); 1.5 and 4 are worse on bus.
// Bitstream 6 (fitted tables, RDDeadZone; BD-rate vs x264 medium over one fixed
// PSNR range per clip, since a lower RD also moves the layers down): RD = 2.5, 2, 1.6, 1.3,
// 1.0: bus +97.3, +96.3, +96.1, +97.2, +100.8 %; carphone +75.2, +70.9, +69.1, +69.0, +69.1 %.
const DefaultRD = 1.6

// Class 3 (distance 8 and more: the anchors of S = 32 sub-GOPs) at 3 rather than 2: −0.9 %
// carphone, −0.7 % bus (33 frames, S = 32); an I-frame scale of 3 or 4 instead of 2: ±0.1 %.
// Bitstream 5 (S = 32, BD-rate vs x264 medium bus / carphone / flower): classes
// 0 and 1 at 0.35 and 0.7 rather than 0.5 and 1: +110.9 → +108.8, +90.6 → +83.8, +110.0 →
// +108.2 %. Steeper measured better still — (0.25, 0.6, 1.0, 3): +107.9 / +77.9 / +107.1 %;
// (0.15, 0.5, 1.5, 3): +106.8 / +76.9 / +106.7 % — but leaves the never-referenced frames
// 2.7–3.7 dB below their references at the top layer on bus (every other frame: a visible
// pulse); at (0.35, 0.7) the step is 2.1 dB (bus) and 1.2 dB (carphone), about a random-access
// HEVC hierarchy's.
var rdClassScale = [decoder.DClasses]float64{0.35, 0.7, 1.5, 3}

const rdIntraScale = 2.0

func (e *SegmentEncoder) rdScale() float64 {
	if e.RD == 0 {
		return DefaultRD
	}
	return e.RD
}

func (e *SegmentEncoder) mvLambda() int {
	if e.MVLambda == 0 {
		return DefaultMVLambda
	}
	return max(e.MVLambda, 0)
}

// Encoded is one coded segment with every chain's reconstruction.
type Encoded struct {
	Segment *decoder.Segment
	// Recon[k-1][f] is frame f as a client with k layers reconstructs it (coded size); nil
	// for the lower chains of a frame the encoder did not reconstruct there
	// (SegmentEncoder.TopOnlyUnreferenced).
	Recon [][]*decoder.Frame
	// Weights, when set, is what each frame counts for in the lower chains' means
	// (Levels): 0 for a frame not reconstructed there, n for a sampled never-referenced
	// frame standing for n of them (SegmentEncoder.SampleUnreferenced), 1 otherwise.
	Weights []float64
}

type frameEnc struct {
	fc       *decoder.FrameCoder
	x        decoder.Planes
	predF    decoder.Frame
	y        tensor.Tensor
	out      decoder.Planes
	grids    [2]*decoder.Grid
	recon    [2][]*decoder.Frame
	preds    []decoder.Planes
	payloads [2][][]byte
	bits     [2]int
	direct   []*decoder.Frame // deferMotion's reconstructions
	directF  decoder.Frame    // deferByPrediction's prediction
	// motionBits is the predicted candidate's vectors and modes, coded alone (in fe.bits[1]).
	motionBits int
}

// Encode codes frames (all of one size, even sides) as segment index seg.
func (e *SegmentEncoder) Encode(frames []*decoder.Frame, seg uint32) (*Encoded, error) {
	m := e.Model
	if len(frames) == 0 {
		return nil, fmt.Errorf("encode: no frames")
	}
	K := e.Layers
	if K < 1 || K > decoder.Layers {
		return nil, fmt.Errorf("encode: %d layers, the codec has 1..%d", K, decoder.Layers)
	}
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dispW, dispH := frames[0].W, frames[0].H
	padded := make([]*decoder.Frame, len(frames))
	for i, f := range frames {
		if f.W != dispW || f.H != dispH {
			return nil, fmt.Errorf("encode: frame %d is %dx%d, frame 0 %dx%d", i, f.W, f.H, dispW, dispH)
		}
		p, err := decoder.PadTo16(f)
		if err != nil {
			return nil, fmt.Errorf("encode: frame %d: %w", i, err)
		}
		padded[i] = p
	}
	sc, err := decoder.NewScheduleAnchors(len(frames), e.S, e.IntraAnchors)
	if err != nil {
		return nil, err
	}
	model, err := hex.DecodeString(m.SHA256[:16])
	if err != nil {
		return nil, err
	}
	s := &decoder.Segment{Header: decoder.Header{Width: dispW, Height: dispH, Frames: len(frames), S: e.S,
		IntraAnchors: e.IntraAnchors, Layers: K, Segment: seg}, Have: K, Intra: make([]bool, len(frames)), VecLayer: make([]uint8, len(frames))}
	copy(s.Model[:], model)
	s.Schedule() // computed once here: the frames of a batch read it concurrently
	mvs, pyr, err := searchAll(padded, sc, workers)
	if err != nil {
		return nil, err
	}
	s.MVs = mvs
	if err := e.motion(s, padded, pyr, sc, workers); err != nil {
		return nil, err
	}
	order := sc.DecodeOrder()
	pos := make([]int, len(frames))
	for i, f := range order {
		pos[f] = i
	}
	s.Payloads = make([][][]byte, K)
	for l := range s.Payloads {
		s.Payloads[l] = make([][]byte, len(frames))
	}
	out := &Encoded{Segment: s, Recon: make([][]*decoder.Frame, K)}
	for k := range out.Recon {
		out.Recon[k] = make([]*decoder.Frame, len(frames)) // codeFrame hands its frames over
	}
	sampled := e.sampled(sc, len(frames), out)
	coders := make([]*frameEnc, workers)
	for i := range coders {
		coders[i] = &frameEnc{fc: decoder.NewFrameCoder(m, 1)}
	}
	single := &frameEnc{fc: decoder.NewFrameCoder(m, workers)}
	for _, batch := range sc.Batches {
		err := decoder.RunBatch(workers, batch, func(w, f int) error {
			fe := single
			if w >= 0 {
				fe = coders[w]
			}
			if err := e.codeFrame(fe, s, out, padded[f], pyr[f], sc.Frames[f], pos[f], sampled[f]); err != nil {
				return fmt.Errorf("encode: frame %d: %w", f, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchAll searches every frame with a reference on the original frames (motion search runs
// on originals, docs/MOTION.md), frames in parallel; both encoders use it. It also returns the
// frames' pyramids.
func searchAll(frames []*decoder.Frame, sc *decoder.Schedule, workers int) ([][]decoder.MV, []*Pyramid, error) {
	pyr := make([]*Pyramid, len(frames))
	for i, f := range frames {
		p, err := NewPyramid(f.Y, f.W, f.H)
		if err != nil {
			return nil, nil, err
		}
		pyr[i] = p
	}
	mvs := make([][]decoder.MV, len(frames))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				mvs[f], _ = Search(pyr[f], pyr[sc.Frames[f].Ref], 1)
			}
		}()
	}
	for f := 1; f < len(frames); f++ {
		if !sc.Intra(f) {
			jobs <- f
		}
	}
	close(jobs)
	wg.Wait()
	return mvs, pyr, nil
}

// motion searches every bi-predicted frame's backward vectors on originals like the forward
// ones (frames in parallel); with OriginalRefs it also chooses every predicted frame's motion
// there (chooseMotion), else codeFrame does on the decoded references.
func (e *SegmentEncoder) motion(s *decoder.Segment, frames []*decoder.Frame, pyr []*Pyramid, sc *decoder.Schedule, workers int) error {
	s.Bwd = make([][]decoder.MV, len(frames))
	s.Modes = make([][]uint8, len(frames))
	bw := frames[0].W / 16
	lam := e.mvLambda()
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	one := func(f int) error {
		fr := sc.Frames[f]
		if fr.Future >= 0 {
			bwd, err := Search(pyr[f], pyr[fr.Future], 1)
			if err != nil {
				return err
			}
			s.Bwd[f] = bwd
		}
		if !e.OriginalRefs {
			return nil // chooseMotion, on decoded references
		}
		var fut *Pyramid
		var futF *decoder.Frame
		if fr.Future >= 0 {
			fut, futF = pyr[fr.Future], frames[fr.Future]
		}
		return e.chooseMotion(s, f, bw, pyr[f], pyr[fr.Ref], fut, frames[f], frames[fr.Ref], futF, lam)
	}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first error
			for f := range jobs {
				first = cmp.Or(first, one(f))
			}
			errs <- first
		}()
	}
	for f := 1; f < len(frames); f++ {
		if !sc.Intra(f) {
			jobs <- f
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// yuvMSE is (6·MSE_Y + MSE_U + MSE_V)/8 over the whole (coded) frames.
func yuvMSE(a, b *decoder.Frame) float64 {
	y := planeMSE(a.Y, a.W, b.Y, b.W, a.W, a.H)
	u := planeMSE(a.U, a.W/2, b.U, b.W/2, a.W/2, a.H/2)
	v := planeMSE(a.V, a.W/2, b.V, b.W/2, a.W/2, a.H/2)
	return (6*y + u + v) / 8
}

// candidate codes frame x in one mode (slot 0 intra, 1 predicted) into fe's slot buffers:
// its K payloads, its top chain's reconstruction and its bits.
func (e *SegmentEncoder) candidate(fe *frameEnc, slot int, s *decoder.Segment, out *Encoded, orig *decoder.Frame, fr decoder.FrameRef) error {
	K := s.Layers
	w, h := orig.W, orig.H
	inter := slot == 1
	net := fe.fc.Net(inter)
	c := e.Model.I
	if inter {
		c = e.Model.P
		for len(fe.preds) < K {
			fe.preds = append(fe.preds, decoder.Planes{})
		}
		if err := e.predict(fe, s, out, fr, K); err != nil {
			return err
		}
	}
	var pred *decoder.Planes
	if inter {
		pred = &fe.preds[K-1]
	}
	y, err := net.Analyze(&fe.x, pred, &fe.y)
	if err != nil {
		return err
	}
	if g := fe.grids[slot]; g == nil || g.W != w/8 || g.H != h/8 {
		fe.grids[slot] = decoder.NewGrid(h/8, w/8)
	}
	g := fe.grids[slot]
	if rd := e.rdScale(); rd > 0 {
		lam := e.Model.Lambdas()
		for l := range lam {
			lam[l] *= rd
			if inter {
				lam[l] *= rdClassScale[fr.Class]
			} else {
				lam[l] *= e.Model.IntraLambda() * rdIntraScale
			}
		}
		if err := e.Model.QuantizeRD(c, y, g, lam); err != nil {
			return err
		}
	} else {
		c.Quantize(y, g)
	}
	for l := K; l < decoder.Layers; l++ {
		clear(g.Q[l]) // layers beyond K are never sent
	}
	fe.payloads[slot] = fe.payloads[slot][:0]
	fe.bits[slot] = 0
	for l := 0; l < K; l++ {
		p, err := e.Model.EncodeLayer(c, g, l)
		if err != nil {
			return err
		}
		fe.payloads[slot] = append(fe.payloads[slot], p)
		fe.bits[slot] += 8 * len(p)
	}
	if inter {
		bw := w / 16
		fe.motionBits = 8 * len(decoder.EncodeMVsModes([][]decoder.MV{s.MVs[fr.Index]}, [][]uint8{s.Modes[fr.Index]}, bw))
		if m := s.Modes[fr.Index]; m != nil {
			fe.motionBits += 8 * len(decoder.EncodeBi([][]uint8{m}, [][]decoder.MV{s.Bwd[fr.Index]}, bw))
		}
		fe.bits[slot] += fe.motionBits
	}
	for len(fe.recon[slot]) < K {
		fe.recon[slot] = append(fe.recon[slot], nil)
	}
	for k, r := range fe.recon[slot] {
		if r == nil || r.W != w || r.H != h {
			fe.recon[slot][k] = decoder.NewFrame(w, h)
		}
	}
	// The top layer's reconstruction decides between the candidates (J); the kept one's
	// lower layers are reconstructed by finish.
	if err := e.reconstruct(fe, slot, fr, K); err != nil {
		return err
	}
	return nil
}

// predict writes the motion-compensated prediction of frame fr from the chain-k
// reconstructions into fe.preds[k-1].
func (e *SegmentEncoder) predict(fe *frameEnc, s *decoder.Segment, out *Encoded, fr decoder.FrameRef, k int) error {
	mo := decoder.Motion{Ref: out.Recon[k-1][fr.Ref], MVs: s.MVs[fr.Index]}
	if s.Modes[fr.Index] != nil {
		mo.Fut, mo.Bwd, mo.Modes = out.Recon[k-1][fr.Future], s.Bwd[fr.Index], s.Modes[fr.Index]
	}
	if err := mo.Predict(&fe.predF); err != nil {
		return err
	}
	return decoder.PlanesOf(&fe.predF, &fe.preds[k-1])
}

// reconstruct decodes candidate slot's grid with k layers into fe.recon[slot][k-1] (for
// the predicted candidate, from fe.preds[k-1]).
func (e *SegmentEncoder) reconstruct(fe *frameEnc, slot int, fr decoder.FrameRef, k int) error {
	var pk *decoder.Planes
	class := 0
	if slot == 1 {
		pk, class = &fe.preds[k-1], fr.Class
	}
	if err := fe.fc.Net(slot == 1).Decode(fe.grids[slot], k, class, pk, &fe.out); err != nil {
		return err
	}
	fe.out.Frame(fe.recon[slot][k-1])
	return nil
}

// finish reconstructs the kept candidate's layers below the top one (chains 1 … K−1),
// which only it needs.
func (e *SegmentEncoder) finish(fe *frameEnc, slot int, s *decoder.Segment, out *Encoded, fr decoder.FrameRef) error {
	for k := 1; k < s.Layers; k++ {
		if slot == 1 {
			if err := e.predict(fe, s, out, fr, k); err != nil {
				return err
			}
		}
		if err := e.reconstruct(fe, slot, fr, k); err != nil {
			return err
		}
	}
	return nil
}

// sampled says which never-referenced frames SampleUnreferenced reconstructs in every chain
// and sets out.Weights: of each run of n of them in frame order, the (g mod n)-th for the
// g-th run, so that the sample visits every position between the references.
func (e *SegmentEncoder) sampled(sc *decoder.Schedule, n int, out *Encoded) []bool {
	s := make([]bool, n)
	if !e.TopOnlyUnreferenced || e.ReconAll {
		return s
	}
	out.Weights = make([]float64, n)
	var unref []int
	for f := range n {
		if sc.Referenced(f) {
			out.Weights[f] = 1
		} else {
			unref = append(unref, f)
		}
	}
	if m := e.SampleUnreferenced; m > 0 {
		for g := 0; g*m < len(unref); g++ {
			run := unref[g*m : min((g+1)*m, len(unref))]
			f := run[min(g%m, len(run)-1)]
			s[f] = true
			out.Weights[f] = float64(len(run))
		}
	}
	return s
}

// finishAsDecoded reconstructs the kept candidate's chains 1 … K−1 with the motion each
// client uses (decoder.Segment.MotionFields: direct motion below the unit that carries the
// frame's vectors), after deferByPrediction decided where they go.
func (e *SegmentEncoder) finishAsDecoded(fe *frameEnc, slot int, s *decoder.Segment, out *Encoded, fr decoder.FrameRef) error {
	for k := 1; k < s.Layers; k++ {
		if slot == 1 {
			mo := decoder.Motion{Ref: out.Recon[k-1][fr.Ref]}
			mo.MVs, mo.Bwd, mo.Modes = s.MotionFields(fr.Index, k)
			if mo.Modes != nil {
				mo.Fut = out.Recon[k-1][fr.Future]
			}
			if err := mo.Predict(&fe.predF); err != nil {
				return err
			}
			if err := decoder.PlanesOf(&fe.predF, &fe.preds[k-1]); err != nil {
				return err
			}
		}
		if err := e.reconstruct(fe, slot, fr, k); err != nil {
			return err
		}
	}
	return nil
}

// count adds the kept candidate's K layers to e.Stats.
func (e *SegmentEncoder) count(g *decoder.Grid, inter bool, K int) error {
	c := e.Model.I
	if inter {
		c = e.Model.P
	}
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	for l := 0; l < K; l++ {
		if err := e.Model.Count(c, g, l, e.Stats); err != nil {
			return err
		}
	}
	return nil
}

// codeFrame codes frame fr (decode-order position i): intra when it has no reference, else
// predicted, or intra when that costs less (J = R + λ·D at the top layer).
func (e *SegmentEncoder) codeFrame(fe *frameEnc, s *decoder.Segment, out *Encoded, orig *decoder.Frame, po *Pyramid, fr decoder.FrameRef, i int, sampled bool) error {
	if err := decoder.PlanesOf(orig, &fe.x); err != nil {
		return err
	}
	slot := 0
	if fr.Ref >= 0 && !e.OriginalRefs {
		if err := e.decodedMotion(s, out, orig, po, fr); err != nil {
			return err
		}
	}
	if fr.Ref >= 0 {
		if err := e.candidate(fe, 1, s, out, orig, fr); err != nil {
			return err
		}
		slot = 1
		if !e.NoModes && (e.SceneCut <= 0 || e.sceneCut(orig.Y, fe.predF.Y, orig.W, orig.H)) {
			if err := e.candidate(fe, 0, s, out, orig, fr); err != nil {
				return err
			}
			lam := e.ModeLambda
			if lam == 0 {
				lam = DefaultModeLambda
			}
			npix := float64(orig.W * orig.H)
			j := func(sl int) float64 { return float64(fe.bits[sl])/npix + lam*yuvMSE(orig, fe.recon[sl][s.Layers-1]) }
			if j(0) < j(1) {
				slot = 0
			}
		}
	} else if err := e.candidate(fe, 0, s, out, orig, fr); err != nil {
		return err
	}
	s.Intra[fr.Index] = slot == 0
	deferral := slot == 1 && s.Layers > 1 && e.deferLambda() > 0 && s.Deferrable(fr.Index)
	topOnly := e.TopOnlyUnreferenced && !s.Schedule().Referenced(fr.Index)
	all := e.ReconAll || sampled // every chain reconstructed all the same
	switch {
	case !topOnly:
		if err := e.finish(fe, slot, s, out, fr); err != nil {
			return err
		}
		if deferral {
			if err := e.deferMotion(fe, s, out, orig, fr); err != nil {
				return err
			}
		}
	case deferral:
		if err := e.deferByPrediction(fe, s, out, orig, fr); err != nil {
			return err
		}
	}
	if topOnly && all {
		if err := e.finishAsDecoded(fe, slot, s, out, fr); err != nil {
			return err
		}
	}
	if e.Stats != nil {
		if err := e.count(fe.grids[slot], slot == 1, s.Layers); err != nil {
			return err
		}
	}
	if slot == 0 {
		s.MVs[fr.Index], s.Bwd[fr.Index], s.Modes[fr.Index] = nil, nil, nil
	}
	for l, p := range fe.payloads[slot] {
		s.Payloads[l][i] = p
	}
	for k := range out.Recon {
		if topOnly && !all && k < s.Layers-1 {
			out.Recon[k][fr.Index] = nil
			continue
		}
		out.Recon[k][fr.Index] = fe.recon[slot][k]
		fe.recon[slot][k] = nil // candidate allocates another
	}
	return nil
}

// chooseMotion finishes frame f's motion from its searched vectors: forward (and backward)
// vectors chosen by SAD + λ·bits (SmoothRD), block modes by BlockModesRD, and each vector its
// block's mode does not use set to its prediction (it is then not sent). cur is the
// original frame; ref and fut (nil without a future frame) are the references it is
// measured against, with their pyramids (only level 0 is read).
func (e *SegmentEncoder) chooseMotion(s *decoder.Segment, f, bw int, pc, pr, pf *Pyramid, cur, ref, fut *decoder.Frame, lam int) error {
	if lam > 0 {
		SmoothRD(pc, pr, s.MVs[f], lam)
	}
	if fut == nil {
		return nil
	}
	bwd := s.Bwd[f]
	if lam > 0 {
		SmoothRD(pc, pf, bwd, lam)
	}
	m, err := BlockModesRD(cur, ref, fut, s.MVs[f], bwd, e.biModeLambda())
	if err != nil {
		return err
	}
	decoder.FillUnusedMVs(s.MVs[f], bw, func(i int) bool { return m[i] != decoder.ModeBwd })
	decoder.FillUnusedMVs(bwd, bw, func(i int) bool { return m[i] != decoder.ModeFwd })
	s.Modes[f] = m
	return nil
}

// decodedMotion is chooseMotion on the top chain's decoded references (the frames a client
// with every layer predicts from), for frame fr of codeFrame (orig, with its pyramid po).
func (e *SegmentEncoder) decodedMotion(s *decoder.Segment, out *Encoded, orig *decoder.Frame, po *Pyramid, fr decoder.FrameRef) error {
	top := out.Recon[len(out.Recon)-1]
	level0 := func(f *decoder.Frame) *Pyramid {
		return &Pyramid{l: [3]plane{newPlane(f.Y, f.W, f.H, margins[0])}}
	}
	var pf *Pyramid
	var fut *decoder.Frame
	if fr.Future >= 0 {
		fut = top[fr.Future]
		pf = level0(fut)
	}
	return e.chooseMotion(s, fr.Index, orig.W/16, po, level0(top[fr.Ref]), pf, orig, top[fr.Ref], fut, e.mvLambda())
}
