package trace

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
			return nil, &ParseError{name, line, fmt.Sprintf("want a millisecond timestamp, got %q", Clip(l))}
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
	// Count packets per bin, touching only bins that hold packets: a run of empty bins
	// becomes one zero-bandwidth interval, so memory follows the number of timestamps,
	// not the trace's period (a single timestamp of 10^10 ms is 10^8 bins).
	tr := &Trace{Name: name, TimeS: []float64{0}, BandwidthMbps: []float64{0}}
	emit := func(from, to int64, packets int) {
		tr.TimeS = append(tr.TimeS, float64(to)/1000)
		tr.BandwidthMbps = append(tr.BandwidthMbps, float64(packets)*1500*8/(float64(to-from)/1000)/1e6)
	}
	bin := func(ms int64) int64 {
		// Opportunity at ms delivers during (ms-1, ms]; timestamp 0 belongs to the first bin.
		if ms == 0 {
			return 0
		}
		return (ms - 1) / MahimahiBinMs
	}
	end := int64(0) // end of the last emitted interval, ms
	for i := 0; i < len(stamps); {
		b := bin(stamps[i])
		j := i
		for j < len(stamps) && bin(stamps[j]) == b {
			j++
		}
		from := b * MahimahiBinMs
		if from > end {
			emit(end, from, 0)
		}
		to := min(from+MahimahiBinMs, period)
		emit(from, to, j-i)
		end = to
		i = j
	}
	tr.BandwidthMbps[0] = tr.BandwidthMbps[1]
	if err := tr.validate(); err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	return tr, nil
}
