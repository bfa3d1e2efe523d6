package nvc2

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// WithEntropy returns a copy of weights (a weights file of this format) whose ent.table and
// ent.flag_freq tensors of both codecs (I first) are replaced by table and flags (as
// RefitTables returns them). Everything else stays byte for byte.
func WithEntropy(weights []byte, table, flags [2][]float32) ([]byte, error) {
	if len(weights) < 8 {
		return nil, fmt.Errorf("weights: %d bytes", len(weights))
	}
	n := binary.LittleEndian.Uint64(weights)
	if n > uint64(len(weights)-8) {
		return nil, fmt.Errorf("weights: header of %d bytes in a %d-byte file", n, len(weights))
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(weights[8:8+n], &hdr); err != nil {
		return nil, fmt.Errorf("weights header: %w", err)
	}
	out := append([]byte(nil), weights...)
	base := 8 + int(n)
	put := func(name string, vals []float32) error {
		raw, ok := hdr[name]
		if !ok {
			return fmt.Errorf("weights: no tensor %s", name)
		}
		var t struct {
			Dtype   string `json:"dtype"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("weights: tensor %s: %w", name, err)
		}
		if t.Dtype != "F32" || t.Offsets[1]-t.Offsets[0] != 4*len(vals) || base+t.Offsets[1] > len(out) || t.Offsets[0] < 0 {
			return fmt.Errorf("weights: tensor %s is %s over %v, want F32 of %d values", name, t.Dtype, t.Offsets, len(vals))
		}
		for i, v := range vals {
			binary.LittleEndian.PutUint32(out[base+t.Offsets[0]+4*i:], math.Float32bits(v))
		}
		return nil
	}
	for ci, tag := range []string{"i.", "p."} {
		if err := put(tag+"ent.table", table[ci]); err != nil {
			return nil, err
		}
		if err := put(tag+"ent.flag_freq", flags[ci]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
