package tensor

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
// data_offsets} plus an optional "__metadata__" string map, then the data. F32 and F16
// (converted to float32 exactly) are accepted. Offsets are checked to lie inside the data and to match the shape.
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
		size := 4
		switch h.Dtype {
		case "F32":
		case "F16":
			size = 2
		default:
			return nil, nil, bad("tensor %q: dtype %q, only F32 and F16 are supported", name, h.Dtype)
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
		if h.Offsets[1]-h.Offsets[0] != uint64(count)*uint64(size) {
			return nil, nil, bad("tensor %q: %d bytes for shape %v", name, h.Offsets[1]-h.Offsets[0], h.Shape)
		}
		src := data[h.Offsets[0]:h.Offsets[1]]
		a := Array{Shape: h.Shape, Data: make([]float32, count)}
		if size == 2 {
			for i := range a.Data {
				a.Data[i] = halfToFloat(binary.LittleEndian.Uint16(src[2*i:]))
			}
		} else {
			for i := range a.Data {
				a.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
			}
		}
		out[name] = a
	}
	return out, meta, nil
}

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly (every half is a float32).
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// subnormal half: man · 2^−24
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		return -f
	}
	return f
}
