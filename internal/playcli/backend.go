package playcli

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cuda"
	"github.com/strata-player/strata/decoder/gpu"
	"github.com/strata-player/strata/player"
)

// backend is the decoder --hwdec chose: its name, a maker of segment decoders for the
// session (nil: the Go CPU engine), what to release, and a notice for the overlay.
type backend struct {
	name    string
	newDec  func() (player.SegmentDecoder, error)
	close   func()
	notice  string
	onFault func(error) // a GPU decode failed: the CPU took over (said once)
}

// openBackend opens --hwdec: "no" is the CPU; "emu" the CUDA kernels emulated on the CPU
// (for tests); "cuda" and "auto" try the GPU and fall back to the CPU — with one line on
// stderr when cuda was asked for, one log line for auto.
func openBackend(hwdec string, m *decoder.Model, log zerolog.Logger, stderr io.Writer) backend {
	b := backend{name: "cpu", close: func() {}}
	var dev gpu.Device
	switch hwdec {
	case "no":
		return b
	case "emu":
		d, err := gpu.NewEmu(0)
		if err != nil {
			fmt.Fprintf(stderr, "strata: --hwdec=emu: %v; decoding on the CPU\n", err)
			return b
		}
		dev = d
	default: // cuda, auto
		d, err := cuda.Open(0)
		if err != nil {
			b.notice = "hwdec: no usable CUDA device, decoding on the CPU"
			if hwdec == "cuda" {
				fmt.Fprintf(stderr, "strata: --hwdec=cuda: %v; decoding on the CPU\n", err)
			}
			log.Info().Str("hwdec", hwdec).Err(err).Msg("decoder: cpu")
			return b
		}
		dev = d
	}
	b.name = dev.Name()
	b.close = func() { dev.Close() }
	said := false
	b.onFault = func(err error) {
		if !said {
			said = true
			log.Warn().Str("backend", dev.Name()).Err(err).Msg("GPU decode failed; decoding on the CPU from now on")
		}
	}
	b.newDec = func() (player.SegmentDecoder, error) {
		gd, err := gpu.NewDecoder(dev, m)
		if err != nil {
			return nil, err
		}
		return &fallback{primary: gd, cpu: decoder.NewSegmentDecoder(m, 0), onFault: b.onFault}, nil
	}
	return b
}

// fallback decodes on the GPU until it fails on a segment the CPU decodes, then on the
// CPU for the rest of the session.
type fallback struct {
	primary, cpu player.SegmentDecoder
	failed       bool
	onFault      func(error)
}

func (f *fallback) Decode(s *decoder.Segment, k int) ([]*decoder.Frame, error) {
	return f.DecodeRate(s, k, 0)
}

func (f *fallback) DecodeRate(s *decoder.Segment, k, drop int) ([]*decoder.Frame, error) {
	if !f.failed {
		frames, err := f.primary.DecodeRate(s, k, drop)
		if err == nil {
			return frames, nil
		}
		frames, cerr := f.cpu.DecodeRate(s, k, drop)
		if cerr != nil {
			return nil, err // the segment itself is bad
		}
		f.failed = true
		f.onFault(err)
		return frames, nil
	}
	return f.cpu.DecodeRate(s, k, drop)
}
