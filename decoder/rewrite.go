package decoder

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// WithEntropy returns a copy of weights (a weights file of this format) whose entropy
// tensors are r's: tables.sizes and tables.freqs (every table), and ent.table and
// ent.flag_freq of both codecs. Every other tensor's bytes and the metadata stay as they
// were.
func WithEntropy(weights []byte, r Refit) ([]byte, error) {
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
	data := weights[8+n:]
	var sizes, freqs []float32
	for _, f := range r.Freqs {
		sizes = append(sizes, float32(len(f)))
		for _, v := range f {
			freqs = append(freqs, float32(v))
		}
	}
	repl := map[string][]float32{"tables.sizes": sizes, "tables.freqs": freqs,
		"i.ent.table": r.Table[0], "i.ent.flag_freq": r.Flags[0], "p.ent.table": r.Table[1], "p.ent.flag_freq": r.Flags[1]}
	type tensor struct {
		name    string
		Dtype   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	var ts []tensor
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		t := tensor{name: name}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("weights: tensor %s: %w", name, err)
		}
		if t.Offsets[0] < 0 || t.Offsets[0] > t.Offsets[1] || t.Offsets[1] > len(data) {
			return nil, fmt.Errorf("weights: tensor %s: offsets %v outside %d bytes", name, t.Offsets, len(data))
		}
		ts = append(ts, t)
	}
	for name, vals := range repl {
		i := slices.IndexFunc(ts, func(t tensor) bool { return t.name == name })
		if i < 0 {
			return nil, fmt.Errorf("weights: no tensor %s", name)
		}
		if name != "tables.sizes" && name != "tables.freqs" && ts[i].Offsets[1]-ts[i].Offsets[0] != 4*len(vals) {
			return nil, fmt.Errorf("weights: tensor %s has %d bytes, want F32 of %d values", name, ts[i].Offsets[1]-ts[i].Offsets[0], len(vals))
		}
	}
	// The data in its original order, replaced tensors resized in place.
	slices.SortFunc(ts, func(a, b tensor) int { return cmp.Compare(a.Offsets[0], b.Offsets[0]) })
	var body []byte
	out := map[string]any{}
	if meta, ok := hdr["__metadata__"]; ok {
		out["__metadata__"] = meta
	}
	for _, t := range ts {
		start := len(body)
		if vals, ok := repl[t.name]; ok {
			for _, v := range vals {
				body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
			}
			t.Dtype = "F32"
			if len(t.Shape) <= 1 {
				t.Shape = []int{len(vals)}
			}
		} else {
			body = append(body, data[t.Offsets[0]:t.Offsets[1]]...)
		}
		t.Offsets = [2]int{start, len(body)}
		out[t.name] = t
	}
	h, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	res := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	res = append(res, h...)
	return append(res, body...), nil
}
