package encoder

import (
	"github.com/strata-player/strata/decoder"
)

// DefaultDeferLambda is SegmentEncoder.DeferLambda's default: the deferral decision prices
// chain k's distortion at DeferLambda·λ_k of the model's training. Measured (S = 32, BD-rate
// vs x264 medium, bus / carphone / flower): 1: +110.9 / +90.6 / +110.0 %; 0.5: +110.7 / +90.9 /
// +110.4 %; 0.25: +111.2 / +93.8 / +112.2 %; no deferral: +111.9 / +98.2 / +133.3 %.
const DefaultDeferLambda = 1.0

func (e *SegmentEncoder) deferLambda() float64 {
	if e.DeferLambda == 0 {
		return DefaultDeferLambda
	}
	return e.DeferLambda
}

// deferMotion decides which unit carries the motion of a frame no other frame references
// (decoder.Segment.Deferrable; bitstream version 5), once the frame is coded as predicted in fe's
// slot 1: a client holding k layers below that unit predicts it by direct motion
// (decoder.Segment.DirectMotion) instead. Unit L is kept that minimises
// Σ_{k ≤ L} (λ'_k·ΔD_k − B), B the frame's motion bits, ΔD_k the chain-k distortion that
// direct motion adds ((6·MSE_Y + MSE_U + MSE_V)/8 × pixels) and λ'_k = DeferLambda·λ_k. The
// chains below the kept unit get the direct reconstructions; nothing else changes (no frame
// predicts from this one).
func (e *SegmentEncoder) deferMotion(fe *frameEnc, s *decoder.Segment, out *Encoded, orig *decoder.Frame, fr decoder.FrameRef) error {
	K := s.Layers
	f := fr.Index
	bits := fe.motionBits
	fwd, bwd, modes := s.DirectMotion(f)
	net := fe.fc.Net(true)
	lam := e.Model.Lambdas()
	npix := float64(orig.W * orig.H)
	for len(fe.direct) < K-1 {
		fe.direct = append(fe.direct, decoder.NewFrame(orig.W, orig.H))
	}
	best, bestJ, j := 0, 0.0, 0.0
	for k := 1; k < K; k++ {
		mo := decoder.Motion{Ref: out.Recon[k-1][fr.Ref], Fut: out.Recon[k-1][fr.Future], MVs: fwd, Bwd: bwd, Modes: modes}
		if err := mo.Predict(&fe.predF); err != nil {
			return err
		}
		if err := decoder.PlanesOf(&fe.predF, &fe.preds[k-1]); err != nil {
			return err
		}
		if err := net.Decode(fe.grids[1], k, fr.Class, &fe.preds[k-1], &fe.out); err != nil {
			return err
		}
		rec := fe.direct[k-1]
		fe.out.Frame(rec)
		j += e.deferLambda()*lam[k-1]*npix*(yuvMSE(orig, rec)-yuvMSE(orig, fe.recon[1][k-1])) - float64(bits)
		if j < bestJ {
			best, bestJ = k, j
		}
	}
	s.VecLayer[f] = uint8(best)
	for k := 1; k <= best; k++ {
		fe.recon[1][k-1], fe.direct[k-1] = fe.direct[k-1], fe.recon[1][k-1]
	}
	return nil
}

// deferByPrediction is deferMotion's decision without reconstructing: each chain's added
// distortion ΔD_k is taken as what direct motion adds to the top chain's prediction
// (measured on 40 frames of the demo's source, the decoded ΔD_k follow it within a factor
// of about 1.5 where it matters: residuals at low rates correct little of the prediction).
// The frame's lower chains are not reconstructed (SegmentEncoder.TopOnlyUnreferenced); fe's
// predF must hold the top chain's prediction with the coded motion.
func (e *SegmentEncoder) deferByPrediction(fe *frameEnc, s *decoder.Segment, out *Encoded, orig *decoder.Frame, fr decoder.FrameRef) error {
	K := s.Layers
	top := out.Recon[K-1]
	fwd, bwd, modes := s.DirectMotion(fr.Index)
	mo := decoder.Motion{Ref: top[fr.Ref], Fut: top[fr.Future], MVs: fwd, Bwd: bwd, Modes: modes}
	if err := mo.Predict(&fe.directF); err != nil {
		return err
	}
	dd := yuvMSE(orig, &fe.directF) - yuvMSE(orig, &fe.predF)
	lam := e.Model.Lambdas()
	npix := float64(orig.W * orig.H)
	best, bestJ, j := 0, 0.0, 0.0
	for k := 1; k < K; k++ {
		j += e.deferLambda()*lam[k-1]*npix*dd - float64(fe.motionBits)
		if j < bestJ {
			best, bestJ = k, j
		}
	}
	s.VecLayer[fr.Index] = uint8(best)
	return nil
}
