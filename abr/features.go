package abr

import (
	"context"
	"math"
)

// The learned policies score every candidate action of a decision with one network: its
// input is the decision's global features (what the session has seen) followed by the
// candidate's own. The layout is shared by the classic and the layered model; entries a
// stream kind does not have are 0. Changing it invalidates the committed models
// (FeatureVersion is in their manifest).
const (
	FeatureVersion = 3
	globalFeatures = 21
	actionFeatures = 16
	// Features is the network's input size.
	Features = globalFeatures + actionFeatures
	// PlannerPickFeature is the candidate feature that marks the action robustMPC (ladders)
	// or swift (layered streams) would take.
	PlannerPickFeature = globalFeatures + 13
	// maxUpgradeCandidates bounds the buffered segments offered for an upgrade.
	maxUpgradeCandidates = 6
)

// Featurizer turns states into candidate actions and their feature rows. It keeps the
// robust throughput predictor of the session, so one Featurizer serves one session.
type Featurizer struct {
	Est Robust
	// mpc plans on true chunk sizes (classic streams): each fetch's best 5-chunk plan value
	// is a feature, so the network learns where robustMPC's estimate misleads it.
	mpc MPC
	// plain is the same search on the harmonic mean without the error discount.
	plain MPC
	// swift's choice on layered streams is a feature too (Layer with upgrades).
	swift Layer
	acts  []Action
	rows  [][]float64
	g     [globalFeatures]float64
	spare []float64
}

// Reset starts a new session.
func (f *Featurizer) Reset() {
	f.Est.Forget()
	f.mpc.Reset()
	f.plain.Reset()
	f.swift.Reset()
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// utility is segment n's utility with quality q (layers q+1): PSNR-Y/10 on layered
// streams, Mbit/s on a ladder (QoE lin).
func utility(v *Video, n, q int) float64 {
	if v.Layers != nil {
		return v.Layers.Utility(min(n, v.Chunks-1), q+1)
	}
	return v.BitratesKbps[q] / 1000
}

// Candidates lists the actions open in s and their features (rows alias the Featurizer's
// buffers until the next call). Fetches come first, in quality order.
func (f *Featurizer) Candidates(s *State) ([]Action, [][]float64) {
	v := s.Video
	K := len(v.BitratesKbps)
	segS := v.ChunkS
	topMbps := v.BitratesKbps[K-1] / 1000
	predMBps := f.Est.PredictMBps(s)
	if predMBps <= 0 {
		predMBps = 0.05
	}
	rtt := estimateRTT(s)
	layered := v.Layers != nil
	buffer := s.BufferS
	if layered {
		buffer = s.VirtualS
	}
	lastU, lastQ := 0.0, s.LastQuality
	if s.Next > 0 {
		if layered && len(s.Held) >= s.Next && s.Held[s.Next-1] > 0 {
			lastQ = s.Held[s.Next-1] - 1
		}
		lastU = utility(v, s.Next-1, lastQ)
	}
	uTop := utility(v, max(s.Next, 0), K-1)

	g := &f.g
	*g = [globalFeatures]float64{}
	g[0] = buffer / 10
	g[1] = float64(min(v.Chunks-s.Next, 10)) / 10
	n := len(s.Samples)
	for i := 0; i < 8 && i < n; i++ {
		g[2+i] = clamp(s.Samples[n-1-i].ThroughputMbps()/topMbps, 0, 10)
	}
	for i := 0; i < 4 && i < n; i++ {
		g[10+i] = clamp(s.Samples[n-1-i].DelayMs/1000/segS, 0, 10)
	}
	g[14] = clamp(predMBps*8/topMbps, 0, 10)
	g[15] = clamp(s.RebufferS/segS, 0, 10)
	g[16] = lastU / uTop
	if n >= 2 {
		m, sq, k := 0.0, 0.0, 0
		for i := max(0, n-5); i < n; i++ {
			x := s.Samples[i].ThroughputMbps()
			m += x
			sq += x * x
			k++
		}
		m /= float64(k)
		g[20] = clamp(math.Sqrt(math.Max(sq/float64(k)-m*m, 0))/math.Max(m, 1e-6), 0, 10)
	}
	if layered {
		g[17] = s.DecodedS / 10
		g[18] = 4
		if s.DecodeFPS > 0 {
			g[18] = clamp(s.DecodeFPS/v.Layers.FPS, 0, 4)
		}
		open := 0
		for m := s.Committed; m < s.Next; m++ {
			if s.Held[m] < s.Reach(m) {
				open++
			}
		}
		g[19] = float64(open) / 5
	}

	var mpcValue, plainValue []float64
	mpcBest, plainBest := 0.0, 0.0
	if !layered && s.Next < v.Chunks {
		f.mpc.Horizon, f.mpc.RebufPenalty, f.mpc.Prune = 5, QualityRebufPenalty, true
		a := f.mpc.Decide(context.Background(), s)
		mpcValue, mpcBest = f.mpc.FirstValue, f.mpc.FirstValue[a.Quality]
		f.plain.Horizon, f.plain.RebufPenalty, f.plain.Plain, f.plain.Prune = 5, QualityRebufPenalty, true, true
		a = f.plain.Decide(context.Background(), s)
		plainValue, plainBest = f.plain.FirstValue, f.plain.FirstValue[a.Quality]
	}

	var swiftA Action
	if layered {
		f.swift.Upgrades = true
		swiftA = f.swift.Decide(context.Background(), s)
	}

	f.acts, f.rows = f.acts[:0], f.rows[:0]
	f.spare = f.spare[:0]
	add := func(a Action, kind int, u, du, bytes float64, q int, margin float64) {
		if cap(f.spare)-len(f.spare) < Features {
			f.spare = make([]float64, 0, 16*Features)
		}
		row := f.spare[len(f.spare) : len(f.spare)+Features]
		f.spare = f.spare[:len(f.spare)+Features]
		copy(row, g[:])
		c := row[globalFeatures:]
		clear(c)
		c[kind] = 1
		dt := rtt + bytes/(predMBps*1e6)
		c[3] = u / uTop
		c[4] = du
		c[5] = math.Abs(du)
		c[6] = clamp(dt/segS, 0, 10)
		c[7] = clamp((dt-buffer)/segS, 0, 10)
		c[8] = clamp(bytes*8/segS/1e6/topMbps, 0, 10)
		c[9] = float64(q) / float64(max(K-1, 1))
		c[10] = clamp(margin/segS, -10, 10)
		if n > 0 {
			c[11] = clamp(bytes*8/1e6/math.Max(s.Samples[n-1].ThroughputMbps(), 0.01)/segS, 0, 10)
		}
		if layered && a == swiftA {
			c[13] = 1
		}
		f.acts = append(f.acts, a)
		f.rows = append(f.rows, row)
	}
	if s.Next < v.Chunks {
		for q := 0; q < K; q++ {
			if layered && q >= s.Reach(s.Next) && q > 0 {
				break
			}
			u := utility(v, s.Next, q)
			du := 0.0
			if s.Next > 0 {
				du = u - lastU
			}
			add(Action{Kind: Fetch, Segment: s.Next, Quality: q}, 0, u, du, float64(v.Size(q, s.Next)), q, 0)
			if mpcValue != nil {
				c := f.rows[len(f.rows)-1][globalFeatures:]
				c[12] = clamp((mpcValue[q]-mpcBest)/5, -10, 10)
				if mpcValue[q] == mpcBest {
					c[13] = 1
				}
				c[14] = clamp((plainValue[q]-plainBest)/5, -10, 10)
				if plainValue[q] == plainBest {
					c[15] = 1
				}
			}
		}
	}
	if layered && s.Next > 0 {
		offered := 0
		for m := s.Committed; m < s.Next && offered < maxUpgradeCandidates; m++ {
			h := s.Held[m]
			if h == 0 || h >= s.Reach(m) || h >= K {
				continue
			}
			offered++
			deadline := float64(m)*segS - s.DecodeWindowS - s.PlayheadS
			bytes := float64(v.Layers.LayerBytes[m][h])
			dt := rtt + bytes/(predMBps*1e6)
			u := utility(v, m, h)
			add(Action{Kind: Upgrade, Segment: m, Quality: h}, 1, u, u-utility(v, m, h-1), bytes, h, deadline-dt)
		}
		if s.Next == v.Chunks {
			// Every segment is fetched: the session ends unless an upgrade is taken. (Mid-session
			// waiting is the simulator's and player's job: a fetch waits for the buffer cap.)
			add(Action{Kind: Wait}, 2, lastU, 0, 0, 0, 0)
		}
	}
	return f.acts, f.rows
}
