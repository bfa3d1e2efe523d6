package decoder

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Array is one named float32 tensor of a safetensors file.
type Array struct {
	Shape []int
	Data  []float32
}

// ErrSafetensors is wrapped by every error of ParseSafetensors.
var ErrSafetensors = errors.New("safetensors")

// maxHeader bounds the JSON header (the format's reference implementation uses 100 MB).
const maxHeader = 100 << 20

// ParseSafetensors decodes the safetensors layout (huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON mapping each tensor name to {dtype, shape,
// data_offsets} plus an optional "__metadata__" string map, then the data. Only F32 is
// accepted. Offsets are checked to lie inside the data and to match the shape.
func ParseSafetensors(b []byte) (map[string]Array, map[string]string, error) {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrSafetensors, fmt.Sprintf(f, a...)) }
	if len(b) < 8 {
		return nil, nil, bad("file of %d bytes has no header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, nil, bad("header length %d exceeds the file (%d bytes)", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, bad("header: %v", err)
	}
	data := b[8+n:]
	meta := map[string]string{}
	out := map[string]Array{}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw[name], &meta); err != nil {
				return nil, nil, bad("__metadata__: %v", err)
			}
			continue
		}
		var h struct {
			Dtype   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw[name], &h); err != nil {
			return nil, nil, bad("tensor %q: %v", name, err)
		}
		if h.Dtype != "F32" {
			return nil, nil, bad("tensor %q: dtype %q, only F32 is supported", name, h.Dtype)
		}
		count := 1
		for _, d := range h.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt32/d) {
				return nil, nil, bad("tensor %q: bad shape %v", name, h.Shape)
			}
			count *= d
		}
		if len(h.Offsets) != 2 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > uint64(len(data)) {
			return nil, nil, bad("tensor %q: data_offsets %v outside %d data bytes", name, h.Offsets, len(data))
		}
		if h.Offsets[1]-h.Offsets[0] != uint64(count)*4 {
			return nil, nil, bad("tensor %q: %d bytes for shape %v", name, h.Offsets[1]-h.Offsets[0], h.Shape)
		}
		src := data[h.Offsets[0]:h.Offsets[1]]
		a := Array{Shape: h.Shape, Data: make([]float32, count)}
		for i := range a.Data {
			a.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
		out[name] = a
	}
	return out, meta, nil
}
