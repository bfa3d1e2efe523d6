package decoder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// FormatName and FormatVersion identify the weights format this engine reads
// (docs/MODEL.md): a safetensors file whose __metadata__ carries format and version.
const (
	FormatName    = "strata-nvc"
	FormatVersion = 1
)

// Codec is one trained layered codec: the I-frame or the P-frame networks.
type Codec struct {
	Bits, Layers int
	Dec          *DecoderNet
	Enc          *EncoderNet
}

// Model is the whole trained codec: I-frame and P-frame networks.
type Model struct {
	I, P   *Codec
	SHA256 string
	// Manifest is the parsed manifest.json (training summary and hyper-parameters).
	Manifest map[string]any
}

// LoadModel parses weights (nvc.safetensors) after checking them against the SHA-256 that
// manifest (manifest.json) records.
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
	arrays, meta, err := ParseSafetensors(weights)
	if err != nil {
		return nil, fmt.Errorf("model weights: %w", err)
	}
	if meta["format"] != FormatName || meta["version"] != strconv.Itoa(FormatVersion) {
		return nil, fmt.Errorf("model weights: format %q version %q, this engine reads %s version %d",
			meta["format"], meta["version"], FormatName, FormatVersion)
	}
	m := &Model{SHA256: got, Manifest: man}
	for _, tag := range []string{"i", "p"} {
		bits, err1 := strconv.Atoi(meta[tag+"_bits"])
		layers, err2 := strconv.Atoi(meta[tag+"_layers"])
		if err1 != nil || err2 != nil || bits <= 0 || layers <= 0 || bits*layers > 4096 {
			return nil, fmt.Errorf("model weights: bad %s_bits/%s_layers metadata", tag, tag)
		}
		c, err := loadCodec(arrays, tag+".", bits, layers)
		if err != nil {
			return nil, fmt.Errorf("model weights: %s-frame codec: %w", tag, err)
		}
		if tag == "i" {
			m.I = c
		} else {
			m.P = c
		}
	}
	return m, nil
}

type loader struct {
	arrays map[string]Array
	prefix string
	err    error
}

func (l *loader) conv(name string, cin, cout, k, stride int) Conv {
	c := Conv{Cin: cin, Cout: cout, K: k, Stride: stride}
	if l.err != nil {
		return c
	}
	w, ok1 := l.arrays[l.prefix+name+".weight"]
	b, ok2 := l.arrays[l.prefix+name+".bias"]
	if !ok1 || !ok2 {
		l.err = fmt.Errorf("tensor %s%s.{weight,bias} missing", l.prefix, name)
		return c
	}
	c.Weight, c.Bias = w.Data, b.Data
	if err := c.check(); err != nil {
		l.err = fmt.Errorf("%s%s: %w", l.prefix, name, err)
		return c
	}
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

func loadCodec(arrays map[string]Array, prefix string, bits, layers int) (*Codec, error) {
	l := &loader{arrays: arrays, prefix: prefix}
	emb := layers * DClasses * 64
	dec := &DecoderNet{Bits: bits, Layers: layers,
		Inp:      l.conv("dec.inp", layers*bits, 64, 1, 1),
		EmbScale: l.vec("dec.emb_scale", emb), EmbBias: l.vec("dec.emb_bias", emb),
		RB1:   resBlock{l.conv("dec.rb1.a", 64, 64, 3, 1), l.conv("dec.rb1.b", 64, 64, 3, 1)},
		Up1:   l.conv("dec.up1", 64, 128, 1, 1),
		Pred1: l.conv("dec.pred1", 96, 32, 1, 1),
		RB2:   resBlock{l.conv("dec.rb2.a", 32, 32, 3, 1), l.conv("dec.rb2.b", 32, 32, 3, 1)},
		Up2:   l.conv("dec.up2", 32, 64, 1, 1),
		RB3:   resBlock{l.conv("dec.rb3.a", 40, 16, 3, 1), l.conv("dec.rb3.b", 16, 16, 3, 1)},
		Out:   l.conv("dec.out", 16, 24, 1, 1),
	}
	enc := &EncoderNet{Bits: bits, Layers: layers,
		C1:       l.conv("enc.c1", 12, 64, 3, 2),
		EmbScale: l.vec("enc.emb_scale", emb), EmbBias: l.vec("enc.emb_bias", emb),
		C2: l.conv("enc.c2", 64, 96, 3, 2),
		C3: l.conv("enc.c3", 96, 96, 3, 2),
		C4: l.conv("enc.c4", 96, bits, 1, 1),
	}
	if l.err != nil {
		return nil, l.err
	}
	return &Codec{Bits: bits, Layers: layers, Dec: dec, Enc: enc}, nil
}
