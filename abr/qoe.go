package abr

import (
	"fmt"
	"math"
)

// QoE is a per-chunk quality-of-experience model:
// reward = u(q) − RebufPenalty·rebuffer_s − |u(q) − u(q_prev)|, with u(q) = raw(q)/scale.
// Dividing after the difference reproduces Pensieve's arithmetic exactly for lin.
type QoE struct {
	Name         string
	RebufPenalty float64
	scale        float64
	raw          func(v *Video, q int) float64
}

// Utility is u(q) for quality q of video v.
func (m QoE) Utility(v *Video, q int) float64 { return m.raw(v, q) / m.scale }

// Reward is one chunk's QoE.
func (m QoE) Reward(v *Video, q, prev int, rebufS float64) float64 {
	r, rp := m.raw(v, q), m.raw(v, prev)
	return r/m.scale - float64(m.RebufPenalty*rebufS) - math.Abs(r-rp)/m.scale
}

// hdReward is Pensieve's HD utility table for the six envivio rungs.
var hdReward = []float64{1, 2, 3, 12, 15, 20}

// The QoE models of Pensieve: linear (Mbit/s), log (ln R/R_min) and HD (table).
var (
	QoELin = QoE{Name: "lin", RebufPenalty: 4.3, scale: 1000, raw: func(v *Video, q int) float64 {
		return v.BitratesKbps[q]
	}}
	QoELog = QoE{Name: "log", RebufPenalty: 2.66, scale: 1, raw: func(v *Video, q int) float64 {
		return math.Log(v.BitratesKbps[q] / v.BitratesKbps[0])
	}}
	QoEHD = QoE{Name: "hd", RebufPenalty: 8, scale: 1, raw: func(v *Video, q int) float64 {
		return hdReward[q]
	}}
)

// QoEByName returns the model called lin, log or hd; hd needs a six-rung ladder.
func QoEByName(name string, v *Video) (QoE, error) {
	switch name {
	case "lin":
		return QoELin, nil
	case "log":
		return QoELog, nil
	case "hd":
		if v != nil && len(v.BitratesKbps) != len(hdReward) {
			return QoE{}, fmt.Errorf("qoe hd is defined for a %d-rung ladder, video %s has %d", len(hdReward), v.Name, len(v.BitratesKbps))
		}
		return QoEHD, nil
	}
	return QoE{}, fmt.Errorf("unknown QoE model %q (want lin, log or hd)", name)
}
