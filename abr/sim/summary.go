package sim

// Summary aggregates one policy's sessions. Per-trace values are averaged over traces.
type Summary struct {
	Policy string `json:"policy"`
	Traces int    `json:"traces"`
	QoE    string `json:"qoe"`
	// QoEMean is the mean per-chunk QoE over all chunks but the first (startup), per trace,
	// then over traces; it is defined for any video length and equals QoEMean47 for 48 chunks.
	QoEMean float64 `json:"qoe_mean"`
	// QoEMean47 averages chunks 1..47, QoESum47 sums them, QoESum48 sums chunks 0..47.
	QoEMean47      float64 `json:"qoe_mean47"`
	QoESum47       float64 `json:"qoe_sum47"`
	QoESum48       float64 `json:"qoe_sum48"`
	AvgBitrateKbps float64 `json:"avg_bitrate_kbps"`
	// RebufferS is stall time excluding startup (the first chunk's download).
	RebufferS float64 `json:"rebuffer_s"`
	StartupS  float64 `json:"startup_s"`
	// Switches counts quality changes per session; SwitchKbps sums their magnitudes.
	Switches   float64 `json:"switches"`
	SwitchKbps float64 `json:"switch_kbps"`
	// Layered simulator only: mean decoded PSNR-Y, stall events after startup, layer
	// upgrades requested and wasted (arrived after their segment was committed), per trace.
	AvgPSNRY       float64 `json:"avg_psnr_y,omitempty"`
	Stalls         float64 `json:"stalls,omitempty"`
	Upgrades       float64 `json:"upgrades,omitempty"`
	WastedUpgrades float64 `json:"wasted_upgrades,omitempty"`
	// PerTraceQoE is each trace's QoEMean, in trace order (for CDFs).
	PerTraceQoE []float64 `json:"-"`
}

// Summarize aggregates results of the named policy under QoE model qoe.
func Summarize(policy, qoe string, res []TraceResult) Summary {
	s := Summary{Policy: policy, Traces: len(res), QoE: qoe}
	if len(res) == 0 {
		return s
	}
	for _, r := range res {
		c := r.Chunks
		if len(c) == 0 {
			s.PerTraceQoE = append(s.PerTraceQoE, 0)
			continue
		}
		var all, s47, s48, br, rebuf, sw, swk, psnr float64
		for i, ch := range c {
			br += ch.BitrateKbps
			psnr += ch.PSNRY
			if i < 48 {
				s48 += ch.Reward
			}
			if i == 0 {
				continue
			}
			all += ch.Reward
			if i < 48 {
				s47 += ch.Reward
			}
			rebuf += ch.RebufferS
			if ch.RebufferS > 1e-9 {
				s.Stalls++
			}
			if ch.Quality != c[i-1].Quality {
				sw++
				d := ch.BitrateKbps - c[i-1].BitrateKbps
				if d < 0 {
					d = -d
				}
				swk += d
			}
		}
		mean := 0.0
		if len(c) > 1 {
			mean = all / float64(len(c)-1)
		}
		n47 := len(c) - 1
		if n47 > 47 {
			n47 = 47
		}
		if n47 > 0 {
			s.QoEMean47 += s47 / float64(n47)
		}
		s.PerTraceQoE = append(s.PerTraceQoE, mean)
		s.QoEMean += mean
		s.QoESum47 += s47
		s.QoESum48 += s48
		s.AvgBitrateKbps += br / float64(len(c))
		s.RebufferS += rebuf
		s.StartupS += c[0].RebufferS
		s.Switches += sw
		s.SwitchKbps += swk
		s.AvgPSNRY += psnr / float64(len(c))
		s.Upgrades += float64(r.Upgrades)
		s.WastedUpgrades += float64(r.WastedUpgrades)
	}
	n := float64(len(res))
	s.QoEMean /= n
	s.QoEMean47 /= n
	s.QoESum47 /= n
	s.QoESum48 /= n
	s.AvgBitrateKbps /= n
	s.RebufferS /= n
	s.StartupS /= n
	s.Switches /= n
	s.SwitchKbps /= n
	s.AvgPSNRY /= n
	s.Stalls /= n
	s.Upgrades /= n
	s.WastedUpgrades /= n
	return s
}
