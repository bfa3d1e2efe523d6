// Package trace reads network bandwidth traces (Pensieve's cooked form, Mahimahi packet
// traces, Sabre JSON) into one piecewise-constant form. It is a leaf: the simulator (abr),
// the link shaper (net/shape) and the players all read traces through it.
package trace

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Trace is a piecewise-constant bandwidth trace in Pensieve's "cooked" form: BandwidthMbps[i]
// applies on (TimeS[i-1], TimeS[i]]; BandwidthMbps[0] is never used by the network model.
type Trace struct {
	Name          string
	TimeS         []float64
	BandwidthMbps []float64
	// LatencyMs is the mean one-way latency the source format carried (Sabre JSON), else 0.
	// The Pensieve network model ignores it and uses its fixed 80 ms RTT.
	LatencyMs float64
}

// ParseError reports a malformed trace file, naming the file and the 1-based line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ErrNoBandwidth is wrapped by validation errors of traces through which nothing could
// ever be downloaded (the simulator would loop forever on them).
var ErrNoBandwidth = errors.New("trace has no interval with positive bandwidth")

// ParseCooked parses a Pensieve cooked trace: one "time_s throughput_Mbps" pair per line,
// separated by spaces or tabs; CRLF line ends and blank lines are accepted, and like
// Pensieve's load_trace.py any further fields on a line are ignored.
func ParseCooked(name string, data []byte) (*Trace, error) {
	tr := &Trace{Name: name}
	line := 0
	for l := range bytes.Lines(data) {
		line++
		f := bytes.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, &ParseError{name, line, fmt.Sprintf("want \"time_s bandwidth_Mbps\", got %q", Clip(bytes.TrimSpace(l)))}
		}
		t, err := parseFloat(f[0])
		if err != nil {
			return nil, &ParseError{name, line, "time: " + err.Error()}
		}
		bw, err := parseFloat(f[1])
		if err != nil {
			return nil, &ParseError{name, line, "bandwidth: " + err.Error()}
		}
		if n := len(tr.TimeS); n > 0 && t < tr.TimeS[n-1] {
			return nil, &ParseError{name, line, fmt.Sprintf("time %g goes backwards (previous %g)", t, tr.TimeS[n-1])}
		}
		if bw < 0 {
			return nil, &ParseError{name, line, fmt.Sprintf("negative bandwidth %g", bw)}
		}
		tr.TimeS = append(tr.TimeS, t)
		tr.BandwidthMbps = append(tr.BandwidthMbps, bw)
	}
	if err := tr.validate(); err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	return tr, nil
}

func parseFloat(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", Clip(b))
	}
	if v != v || v > 1e12 || v < -1e12 {
		return 0, fmt.Errorf("%q is out of range", Clip(b))
	}
	return v, nil
}

// Clip shortens b for an error message.
func Clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// validate checks what the network model relies on: at least two samples, and some
// interval after the first sample that delivers bytes (else a download never ends).
func (tr *Trace) validate() error {
	if len(tr.TimeS) < 2 {
		return fmt.Errorf("need at least 2 samples, have %d", len(tr.TimeS))
	}
	if last := tr.TimeS[len(tr.TimeS)-1]; !(last >= 0.001) {
		// The model loops from time 0 to the last sample; a shorter loop is no trace.
		return fmt.Errorf("last sample at %g s: the trace must span at least 1 ms from time 0", last)
	}
	// Bytes one pass over the trace delivers (after a wrap the model measures the first
	// interval from 0, not TimeS[0]). With less a download's progress per
	// interval vanishes under float rounding and the network model never finishes.
	pass, prev := 0.0, 0.0
	for i := 1; i < len(tr.TimeS); i++ {
		pass += tr.BandwidthMbps[i] * 1e6 / 8 * (tr.TimeS[i] - prev)
		prev = tr.TimeS[i]
	}
	if !(pass >= MinPassBytes) {
		if pass > 0 {
			return fmt.Errorf("%w: one pass of %g s delivers %.3g bytes, less than %d", ErrNoBandwidth, prev, pass, MinPassBytes)
		}
		return ErrNoBandwidth
	}
	return nil
}

// MinPassBytes is the least a trace must deliver in one pass for the network model to use it.
const MinPassBytes = 1000

// MeanMbps is the time-weighted mean bandwidth over the trace.
func (tr *Trace) MeanMbps() float64 {
	var bits, dur float64
	for i := 1; i < len(tr.TimeS); i++ {
		dt := tr.TimeS[i] - tr.TimeS[i-1]
		bits += dt * tr.BandwidthMbps[i]
		dur += dt
	}
	if dur == 0 {
		return 0
	}
	return bits / dur
}
