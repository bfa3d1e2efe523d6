package abr

import (
	"bytes"
	"fmt"
	"strconv"
)

// MahimahiBinMs is the width of the bins into which ParseMahimahi counts delivery
// opportunities to form a piecewise-constant trace. It is 100 ms.
const MahimahiBinMs = 100

// ParseMahimahi parses a Mahimahi packet-delivery trace: one integer millisecond timestamp
// per line, each one opportunity to deliver a 1500-byte packet (repeated timestamps are
// several packets in that millisecond; timestamps never decrease). The trace loops with
// the period of its last timestamp. It is converted to cooked form by counting bytes in
// bins of MahimahiBinMs.
func ParseMahimahi(name string, data []byte) (*Trace, error) {
	var stamps []int64
	line := 0
	for l := range bytes.Lines(data) {
		line++
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		ms, err := strconv.ParseInt(string(l), 10, 64)
		if err != nil || ms < 0 || ms > 1e10 {
			return nil, &ParseError{name, line, fmt.Sprintf("want a millisecond timestamp, got %q", clip(l))}
		}
		if n := len(stamps); n > 0 && ms < stamps[n-1] {
			return nil, &ParseError{name, line, fmt.Sprintf("timestamp %d goes backwards (previous %d)", ms, stamps[n-1])}
		}
		stamps = append(stamps, ms)
	}
	if len(stamps) == 0 {
		return nil, &ParseError{File: name, Msg: "no timestamps"}
	}
	period := stamps[len(stamps)-1]
	if period <= 0 {
		return nil, &ParseError{File: name, Msg: "trace period (last timestamp) must be positive"}
	}
	bins := int((period + MahimahiBinMs - 1) / MahimahiBinMs)
	counts := make([]int, bins)
	for _, ms := range stamps {
		// Opportunity at ms delivers during (ms-1, ms]; timestamp 0 belongs to the first bin.
		b := int((ms - 1) / MahimahiBinMs)
		if ms == 0 {
			b = 0
		}
		counts[b]++
	}
	tr := &Trace{Name: name, TimeS: make([]float64, bins+1), BandwidthMbps: make([]float64, bins+1)}
	for i, c := range counts {
		end := int64(i+1) * MahimahiBinMs
		if end > period {
			end = period
		}
		width := float64(end-int64(i)*MahimahiBinMs) / 1000
		tr.TimeS[i+1] = float64(end) / 1000
		tr.BandwidthMbps[i+1] = float64(c) * 1500 * 8 / width / 1e6
	}
	tr.BandwidthMbps[0] = tr.BandwidthMbps[1]
	if err := tr.validate(); err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	return tr, nil
}
