package eval

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder"
)

// Point is one RD point of one codec configuration.
type Point struct {
	Codec   string  `json:"codec"`
	Param   string  `json:"param"` // layers k or CRF
	BPP     float64 `json:"bpp"`
	PSNRY   float64 `json:"psnr_y"`
	PSNRYUV float64 `json:"psnr_yuv"` // (6·Y + U + V)/8 of per-frame PSNRs
	WorstY  float64 `json:"worst_frame_psnr_y"`
}

// Result is codec-eval's measurement of one clip.
type Result struct {
	Clip             string                         `json:"clip"`
	Anchors          string                         `json:"anchors"`
	Width            int                            `json:"width"`
	Height           int                            `json:"height"`
	Frames           int                            `json:"frames"`
	GOP              int                            `json:"gop"`
	Points           []Point                        `json:"points"`
	Compared         string                         `json:"compared"`          // the strata curve in the BD-rates (strata-S<compare>)
	BDRate           map[string]*float64            `json:"bd_rate"`           // Compared vs each anchor, cubic (VCEG-M33)
	BDRatePCHIP      map[string]*float64            `json:"bd_rate_pchip"`     // the PCHIP cross-check
	BDRateYUV        map[string]*float64            `json:"bd_rate_yuv"`       // on PSNR-YUV, cubic
	BDRateByS        map[string]map[string]*float64 `json:"bd_rate_by_subgop"` // every coded S (strata-S<s>) vs each anchor, PSNR-Y, cubic
	BDvsX264Medium   *float64                       `json:"bd_rate_vs_x264_medium"`
	BDvsX265Medium   *float64                       `json:"bd_rate_vs_x265_medium"`
	DecodeFPSCPU     float64                        `json:"decode_fps_cpu"` // S=8, all layers
	DecodeFPSByK     map[string]float64             `json:"decode_fps_by_k"`
	DecodeFPSS1      float64                        `json:"decode_fps_s1"`
	ExtraBitsS8vsS1  float64                        `json:"extra_bits_s8_vs_s1_percent"`
	BDRateS8vsS1     *float64                       `json:"bd_rate_s8_vs_s1"`
	MACsPerLumaPixel float64                        `json:"decoder_macs_per_luma_pixel"`
	EncodeSeconds    float64                        `json:"encode_seconds"`
	// Curves are the PSNR-Y RD curves by codec name (strata-S<s>, the anchors), for plots.
	Curves map[string][]encoder.RDPoint `json:"-"`
}

// Options say what Codec measures.
type Options struct {
	Clip     string           // the source Y4M (the anchors encode it with ffmpeg)
	Anchors  string           // "intra" or "predicted" sub-GOP anchors (reported)
	GOP      int              // frames per segment
	SubGOPs  []int            // sub-GOP sizes coded
	Compare  int              // the sub-GOP size whose curve the BD-rates compare
	Progress func(msg string) // if set, told what runs
}

func (o *Options) progress(msg string) {
	if o.Progress != nil {
		o.Progress(msg)
	}
}

// Codec codes orig (the clip's first frames) with c at every sub-GOP size and layer count,
// codes the same frames with the x264/x265 anchors (encoder.Anchors) at the same GOP, and
// returns the RD points, the BD-rates against the anchors and the decode speeds (S = 8 at
// k = 1 and all layers, the S = 1 chain).
func Codec(ctx context.Context, c *Coder, orig []*decoder.Frame, o Options) (*Result, error) {
	res := &Result{Clip: o.Clip, Anchors: o.Anchors, Width: orig[0].W, Height: orig[0].H, Frames: len(orig), GOP: o.GOP,
		DecodeFPSByK: map[string]float64{}, MACsPerLumaPixel: c.MACs(),
		BDRate: map[string]*float64{}, BDRatePCHIP: map[string]*float64{}, BDRateYUV: map[string]*float64{}}
	pixels := float64(res.Width * res.Height * len(orig))
	curves := map[string][]encoder.RDPoint{}
	curvesYUV := map[string][]encoder.RDPoint{}
	bits := map[int]float64{}
	start := time.Now()
	for _, s := range o.SubGOPs {
		o.progress(fmt.Sprintf("strata S=%d", s))
		K := c.Layers()
		bytesK := make([]float64, K)
		qK := make([]encoder.ClipQuality, K)
		var segs [][][]byte
		for at := 0; at < len(orig); at += o.GOP {
			batch := orig[at:min(at+o.GOP, len(orig))]
			units, recon, err := c.Encode(batch, uint32(at/o.GOP), s)
			if err != nil {
				return nil, err
			}
			segs = append(segs, units)
			total := 0
			for k := 1; k <= K; k++ {
				total += len(units[k-1])
				bytesK[k-1] += float64(total)
				for f, o := range batch {
					qK[k-1].Add(encoder.MeasurePSNR(o, recon[k-1][f]), at == 0 && f == 0)
				}
			}
		}
		name := fmt.Sprintf("strata-S%d", s)
		for k := 1; k <= K; k++ {
			qK[k-1].Mean(len(orig))
			q := qK[k-1]
			p := Point{Codec: name, Param: fmt.Sprintf("k=%d", k), BPP: bytesK[k-1] * 8 / pixels, PSNRY: q.PSNRY, PSNRYUV: q.PSNRYUV, WorstY: q.WorstY}
			res.Points = append(res.Points, p)
			curves[name] = append(curves[name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRY})
			curvesYUV[name] = append(curvesYUV[name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRYUV})
		}
		bits[s] = bytesK[K-1]
		if s == 8 || s == 1 {
			for _, k := range []int{1, K} {
				if s == 1 && k != K {
					continue
				}
				fps, err := c.DecodeFPS(segs, k)
				if err != nil {
					return nil, err
				}
				if s == 1 {
					res.DecodeFPSS1 = fps
				} else {
					res.DecodeFPSByK[fmt.Sprintf("k=%d", k)] = fps
					if k == K {
						res.DecodeFPSCPU = fps
					}
				}
			}
		}
	}
	res.EncodeSeconds = time.Since(start).Seconds()
	if b1, b8 := bits[1], bits[8]; b1 > 0 && b8 > 0 {
		res.ExtraBitsS8vsS1 = (b8/b1 - 1) * 100
	}
	tmp, err := os.MkdirTemp("", "strata-codec-eval")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, a := range encoder.Anchors {
		for _, crf := range a.CRFs {
			o.progress(fmt.Sprintf("%s crf %d", a.Name, crf))
			n, q, err := encoder.RunAnchor(ctx, a, o.Clip, orig, crf, o.GOP, tmp)
			if err != nil {
				return nil, err
			}
			p := Point{Codec: a.Name, Param: fmt.Sprintf("crf=%d", crf), BPP: float64(n) * 8 / pixels, PSNRY: q.PSNRY, PSNRYUV: q.PSNRYUV, WorstY: q.WorstY}
			res.Points = append(res.Points, p)
			curves[a.Name] = append(curves[a.Name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRY})
			curvesYUV[a.Name] = append(curvesYUV[a.Name], encoder.RDPoint{BPP: p.BPP, PSNR: p.PSNRYUV})
		}
	}
	if s1, s8 := curves["strata-S1"], curves["strata-S8"]; s1 != nil && s8 != nil {
		if v, err := encoder.BDRate(s1, s8); err == nil {
			res.BDRateS8vsS1 = &v
		}
	}
	res.BDRateByS = map[string]map[string]*float64{}
	for _, sv := range o.SubGOPs {
		name := fmt.Sprintf("strata-S%d", sv)
		res.BDRateByS[name] = map[string]*float64{}
		for _, a := range encoder.Anchors {
			if v, err := encoder.BDRate(curves[a.Name], curves[name]); err == nil {
				res.BDRateByS[name][a.Name] = &v
			}
		}
	}
	res.Compared = fmt.Sprintf("strata-S%d", o.Compare)
	if ours := curves[res.Compared]; ours != nil {
		res.BDRate = res.BDRateByS[res.Compared]
		for _, a := range encoder.Anchors {
			if v, err := encoder.BDRatePCHIP(curves[a.Name], ours); err == nil {
				res.BDRatePCHIP[a.Name] = &v
			}
			if v, err := encoder.BDRate(curvesYUV[a.Name], curvesYUV[res.Compared]); err == nil {
				res.BDRateYUV[a.Name] = &v
			}
		}
		res.BDvsX264Medium = res.BDRate["x264-medium"]
		res.BDvsX265Medium = res.BDRate["x265-medium"]
	}
	res.Curves = curves
	return res, nil
}
