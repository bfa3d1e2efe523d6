package abr

import (
	"fmt"
	"math"
)

// Layered is what layered policies (Swift, LiFteR) and the layered simulator know of a
// layered stream beyond its ladder: every layer's size as a request of its own, the
// decoded quality of every layer count (the encoder's quality table) and the frame count.
type Layered struct {
	// LayerBytes[n][l] is layer l of segment n fetched on its own (an upgrade).
	LayerBytes [][]int64
	// PSNRY[n][k-1] is segment n's decoded PSNR-Y in dB with k layers.
	PSNRY  [][]float64
	Frames []int // frames per segment
	FPS    float64
}

// NewLayeredVideo builds a layered stream's Video: the ladder of joined objects (quality
// k−1 = layers 0..k−1, size cumBytes[n][k−1]) plus its Layered description.
func NewLayeredVideo(name string, segS float64, cumBytes, layerBytes [][]int64, psnrY [][]float64, frames []int, fps float64) (*Video, error) {
	v, err := LadderFromLayers(name, segS, cumBytes)
	if err != nil {
		return nil, err
	}
	K := len(v.BitratesKbps)
	if len(layerBytes) != v.Chunks || len(psnrY) != v.Chunks || len(frames) != v.Chunks {
		return nil, fmt.Errorf("video %s: %d segments but %d layer-size, %d quality and %d frame entries",
			name, v.Chunks, len(layerBytes), len(psnrY), len(frames))
	}
	if !(fps > 0) {
		return nil, fmt.Errorf("video %s: frame rate must be positive", name)
	}
	for n := range layerBytes {
		if len(layerBytes[n]) != K || len(psnrY[n]) != K {
			return nil, fmt.Errorf("video %s: segment %d lists %d layer sizes and %d qualities, want %d", name, n, len(layerBytes[n]), len(psnrY[n]), K)
		}
		for l := 0; l < K; l++ {
			if layerBytes[n][l] <= 0 || math.IsNaN(psnrY[n][l]) || math.IsInf(psnrY[n][l], 0) {
				return nil, fmt.Errorf("video %s: segment %d layer %d has size %d and quality %v", name, n, l, layerBytes[n][l], psnrY[n][l])
			}
		}
		if frames[n] <= 0 {
			return nil, fmt.Errorf("video %s: segment %d has %d frames", name, n, frames[n])
		}
	}
	v.Layers = &Layered{LayerBytes: layerBytes, PSNRY: psnrY, Frames: frames, FPS: fps}
	return v, nil
}

// Utility is the decoded quality of segment n with k layers on QoE's scale: PSNR-Y/10.
func (l *Layered) Utility(n, k int) float64 { return l.PSNRY[n][k-1] / 10 }

// QualityRebufPenalty is the QoE penalty per second of stall on decoded quality (Swift's
// QoE with the linear model's weight): QoE = Σ u − 4.3·Σ stall − Σ |Δu|, u = PSNR-Y/10.
const QualityRebufPenalty = 4.3
