package decoder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/strata-player/strata/decoder/entropy"
	"github.com/strata-player/strata/decoder/tensor"
)

// The weights format this package reads (docs/MODEL.md).
const (
	FormatName    = "strata-nvc"
	FormatVersion = 2
)

// Fixed dimensions of the codec.
const (
	Layers   = 4  // refinement layers
	DClasses = 4  // reference distance classes 1, 2, 4, 8 (I-frames: 0)
	Channels = 96 // coefficients per 1/8-grid position: 64 Y, 16 U, 16 V
	Contexts = 16 // entropy contexts per (layer, channel)
	FlagCtx  = 8  // contexts of a coded-block flag per (layer, plane)
	restCh   = 32 // restoration features
	quarter  = 24 // channels of the 1/4 grid: 16 Y, 4 U, 4 V
)

// groups are the channel ranges of Y, U and V; their first (lowest-frequency) channels are
// predicted from their neighbours in the first layer of intra frames (coefs.go).
var groups = [3][2]int{{0, 64}, {64, 80}, {80, 96}}

// Codec is the I-frame or the P-frame half of the model.
type Codec struct {
	Inter bool
	// Decoder: synthesis and restoration.
	Syn                 tensor.Conv
	RestA, RestB, RestC tensor.Conv
	EmbScale, EmbBias   []float32 // [Layers][DClasses][restCh]
	// Encoder: the analysis transform lin(r) + b(relu(a([r, pred]))).
	AnaLin, AnaA, AnaB tensor.Conv
	// Steps are the quantizer steps [Layers][Channels]; Table the frequency table of each
	// context, [Layers][Channels][Contexts] indices into Model.Tables.
	Steps []float32
	Table []uint8
	// Flags are the coded-block flag tables, [Layers][3 planes][FlagCtx].
	Flags []*entropy.CDF
	// gains are SynthesisGains (the encoder's rate–distortion decisions).
	gains []float64
}

// Model is the whole codec: both halves and the shared frequency tables.
type Model struct {
	I, P     *Codec
	Tables   []*entropy.CDF
	SHA256   string
	Manifest map[string]any
}

// Lambdas are the λ_l of the model's training loss (manifest "lambdas": bits per luma pixel
// per unit of 8-bit YUV 6:1:1 MSE), or the design's ladder when the manifest lacks them.
func (m *Model) Lambdas() [Layers]float64 {
	out := [Layers]float64{0.001, 0.004, 0.016, 0.0625}
	if a, ok := m.Manifest["lambdas"].([]any); ok && len(a) == Layers {
		for i, v := range a {
			if f, ok := v.(float64); ok && f > 0 {
				out[i] = f
			}
		}
	}
	return out
}

// RefitFrom is the SHA-256 of the exported weights whose entropy tables `strata
// refit-tables` re-fitted into these (manifest "entropy_refit"."from_sha256"), or "".
func (m *Model) RefitFrom() string {
	r, _ := m.Manifest["entropy_refit"].(map[string]any)
	s, _ := r["from_sha256"].(string)
	return s
}

// BaseTables is the number of leading tables of Model.Tables that the export wrote (the
// discretised Laplace family); tables after them were fitted by `strata refit-tables`
// (manifest "entropy_refit"."base_tables"; all of them when absent).
func (m *Model) BaseTables() int {
	r, _ := m.Manifest["entropy_refit"].(map[string]any)
	if f, ok := r["base_tables"].(float64); ok && f >= 1 && int(f) <= len(m.Tables) {
		return int(f)
	}
	return len(m.Tables)
}

// IntraLambda is the training's weight of an I-frame's distortion (manifest "intra_lambda").
func (m *Model) IntraLambda() float64 {
	if f, ok := m.Manifest["intra_lambda"].(float64); ok && f > 0 {
		return f
	}
	return 1
}

// MACsPerLumaPixel is the decoder's multiply-accumulates per luma pixel.
func (c *Codec) MACsPerLumaPixel() float64 {
	m := float64(c.Syn.MACs()) / 64
	return m + float64(c.RestA.MACs()+c.RestB.MACs()+c.RestC.MACs())/16
}

// LoadModel parses weights (weights.safetensors) after checking them against the SHA-256 that
// manifest (manifest.json) records. Weights of another format version are refused.
func LoadModel(weights, manifest []byte) (*Model, error) {
	var man map[string]any
	if err := json.Unmarshal(manifest, &man); err != nil {
		return nil, fmt.Errorf("model manifest: %w", err)
	}
	sum := sha256.Sum256(weights)
	got := hex.EncodeToString(sum[:])
	if want, _ := man["sha256"].(string); want != got {
		return nil, fmt.Errorf("model weights: sha256 %s, manifest says %q", got, want)
	}
	arrays, meta, err := tensor.ParseSafetensors(weights)
	if err != nil {
		return nil, fmt.Errorf("model weights: %w", err)
	}
	if meta["format"] != FormatName || meta["version"] != strconv.Itoa(FormatVersion) {
		return nil, fmt.Errorf("model weights: format %q version %q, this engine reads %s version %d",
			meta["format"], meta["version"], FormatName, FormatVersion)
	}
	for key, want := range map[string]int{"layers": Layers, "dclasses": DClasses, "channels": Channels, "contexts": Contexts} {
		if meta[key] != strconv.Itoa(want) {
			return nil, fmt.Errorf("model weights: %s = %q, this engine is built for %d", key, meta[key], want)
		}
	}
	m := &Model{SHA256: got, Manifest: man}
	if m.Tables, err = loadTables(arrays); err != nil {
		return nil, fmt.Errorf("model weights: %w", err)
	}
	for _, inter := range []bool{false, true} {
		tag := "i."
		if inter {
			tag = "p."
		}
		c, err := loadCodec(arrays, tag, inter, len(m.Tables))
		if err != nil {
			return nil, fmt.Errorf("model weights: %s-frame codec: %w", tag[:1], err)
		}
		if inter {
			m.P = c
		} else {
			m.I = c
		}
	}
	return m, nil
}

func loadTables(arrays map[string]tensor.Array) ([]*entropy.CDF, error) {
	sizes, ok1 := arrays["tables.sizes"]
	freqs, ok2 := arrays["tables.freqs"]
	if !ok1 || !ok2 || len(sizes.Data) == 0 || len(sizes.Data) > 256 {
		return nil, fmt.Errorf("tables.sizes/tables.freqs missing or not 1..256 tables")
	}
	var tabs []*entropy.CDF
	off := 0
	for j, s := range sizes.Data {
		n := int(s)
		if float32(n) != s || n < 2 || off+n > len(freqs.Data) {
			return nil, fmt.Errorf("table %d: bad size %v", j, s)
		}
		f := make([]uint32, n)
		for i, v := range freqs.Data[off : off+n] {
			if v < 1 || v > 1<<entropy.CDFBits || float32(math.Trunc(float64(v))) != v {
				return nil, fmt.Errorf("table %d: bad frequency %v", j, v)
			}
			f[i] = uint32(v)
		}
		c, err := entropy.NewCDF(f)
		if err != nil {
			return nil, fmt.Errorf("table %d: %w", j, err)
		}
		if (c.Symbols()-2)%2 != 0 {
			return nil, fmt.Errorf("table %d: %d symbols, want 2A+2", j, c.Symbols())
		}
		tabs = append(tabs, c)
		off += n
	}
	if off != len(freqs.Data) {
		return nil, fmt.Errorf("tables.freqs has %d values, the sizes account for %d", len(freqs.Data), off)
	}
	return tabs, nil
}

type loader struct {
	arrays map[string]tensor.Array
	prefix string
	err    error
}

func (l *loader) conv(name string, cin, cout, k int) tensor.Conv {
	c := tensor.Conv{Cin: cin, Cout: cout, K: k, Stride: 1}
	if l.err != nil {
		return c
	}
	w, ok1 := l.arrays[l.prefix+name+".weight"]
	b, ok2 := l.arrays[l.prefix+name+".bias"]
	if !ok1 || !ok2 || len(w.Data) != cout*cin*k*k || len(b.Data) != cout {
		l.err = fmt.Errorf("tensor %s%s.{weight,bias} missing or not %d→%d k%d", l.prefix, name, cin, cout, k)
		return c
	}
	c.Weight, c.Bias = w.Data, b.Data
	c.Prepare()
	return c
}

func (l *loader) vec(name string, n int) []float32 {
	if l.err != nil {
		return nil
	}
	a, ok := l.arrays[l.prefix+name]
	if !ok || len(a.Data) != n {
		l.err = fmt.Errorf("tensor %s%s missing or not %d values", l.prefix, name, n)
		return nil
	}
	return a.Data
}

func loadCodec(arrays map[string]tensor.Array, prefix string, inter bool, ntables int) (*Codec, error) {
	l := &loader{arrays: arrays, prefix: prefix}
	rin, ain := quarter, Channels
	if inter {
		rin, ain = 2*quarter, 2*Channels
	}
	c := &Codec{Inter: inter,
		Syn:      l.conv("syn.conv", Channels, Channels, 3),
		RestA:    l.conv("rest.a", rin, restCh, 3),
		RestB:    l.conv("rest.b", restCh, restCh, 3),
		RestC:    l.conv("rest.c", restCh, quarter, 3),
		EmbScale: l.vec("rest.emb_scale", Layers*DClasses*restCh),
		EmbBias:  l.vec("rest.emb_bias", Layers*DClasses*restCh),
		AnaLin:   l.conv("ana.lin", Channels, Channels, 3),
		AnaA:     l.conv("ana.a", ain, 192, 3),
		AnaB:     l.conv("ana.b", 192, Channels, 3),
		Steps:    l.vec("ent.steps", Layers*Channels),
	}
	tab := l.vec("ent.table", Layers*Channels*Contexts)
	ff := l.vec("ent.flag_freq", Layers*len(groups)*FlagCtx*2)
	if l.err != nil {
		return nil, l.err
	}
	for i := 0; i < len(ff); i += 2 {
		f0, f1 := ff[i], ff[i+1]
		if f0 < 1 || f1 < 1 || f0+f1 != 1<<entropy.CDFBits || float32(int(f0)) != f0 {
			return nil, fmt.Errorf("ent.flag_freq[%d] = %v, %v: want positive integers summing to %d", i/2, f0, f1, 1<<entropy.CDFBits)
		}
		cdf, err := entropy.NewCDF([]uint32{uint32(f0), uint32(f1)})
		if err != nil {
			return nil, err
		}
		c.Flags = append(c.Flags, cdf)
	}
	for i, s := range c.Steps {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("ent.steps[%d] = %v, want a positive step", i, s)
		}
	}
	c.Table = make([]uint8, len(tab))
	for i, v := range tab {
		if v < 0 || int(v) >= ntables || float32(int(v)) != v {
			return nil, fmt.Errorf("ent.table[%d] = %v: not a table index below %d", i, v, ntables)
		}
		c.Table[i] = uint8(v)
	}
	c.gains = c.SynthesisGains()
	return c, nil
}
