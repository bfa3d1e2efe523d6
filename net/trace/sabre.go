package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

type sabreSample struct {
	DurationMs    *float64 `json:"duration_ms"`
	BandwidthKbps *float64 `json:"bandwidth_kbps"`
	LatencyMs     *float64 `json:"latency_ms"`
}

// ParseSabre parses a Sabre network trace: a JSON array of
// {"duration_ms", "bandwidth_kbps", "latency_ms"} periods, played in order and looped.
// Errors name the line of the offending array element.
func ParseSabre(name string, data []byte) (*Trace, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	bad := func(msg string) error {
		return &ParseError{name, lineOf(data, dec.InputOffset()), msg}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, bad("not a JSON array of samples")
	}
	tr := &Trace{Name: name, TimeS: []float64{0}, BandwidthMbps: []float64{0}}
	var lat float64
	for i := 0; dec.More(); i++ {
		var s sabreSample
		if err := dec.Decode(&s); err != nil {
			return nil, bad(fmt.Sprintf("sample %d: %v", i, err))
		}
		if s.DurationMs == nil || s.BandwidthKbps == nil {
			return nil, bad(fmt.Sprintf("sample %d: needs duration_ms and bandwidth_kbps", i))
		}
		d, bw := *s.DurationMs, *s.BandwidthKbps
		if !(d > 0 && d < 1e9) || !(bw >= 0 && bw < 1e9) {
			return nil, bad(fmt.Sprintf("sample %d: duration %g ms / bandwidth %g kbps out of range", i, d, bw))
		}
		if s.LatencyMs != nil {
			if !(*s.LatencyMs >= 0 && *s.LatencyMs < 1e7) {
				return nil, bad(fmt.Sprintf("sample %d: latency %g ms out of range", i, *s.LatencyMs))
			}
			lat += *s.LatencyMs
		}
		tr.TimeS = append(tr.TimeS, tr.TimeS[len(tr.TimeS)-1]+d/1000)
		tr.BandwidthMbps = append(tr.BandwidthMbps, bw/1000)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, bad("unterminated JSON array")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("trailing data after the JSON array")
	}
	if n := len(tr.TimeS) - 1; n > 0 {
		tr.BandwidthMbps[0] = tr.BandwidthMbps[1]
		tr.LatencyMs = lat / float64(n)
	}
	if err := tr.validate(); err != nil {
		return nil, &ParseError{File: name, Msg: err.Error()}
	}
	return tr, nil
}

func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}
