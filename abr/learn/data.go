package learn

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/abr/nn"
)

// A data set file holds the labelled choices of a run (DAgger's aggregate), so later runs can
// build on it (Config.Data) or fit networks without new rollouts. It is a gob stream: a
// header, then the choices.
type dataHeader struct {
	Magic          string
	FeatureVersion int
	Choices        int
}

const dataMagic = "strata-abr-choices-v1"

// WriteData writes data to path (atomically: a temporary file, then a rename).
func WriteData(path string, data []nn.Choice) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := gob.NewEncoder(w)
	err = enc.Encode(dataHeader{Magic: dataMagic, FeatureVersion: abr.FeatureVersion, Choices: len(data)})
	for i := 0; err == nil && i < len(data); i++ {
		err = enc.Encode(&data[i])
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// ReadData reads a data set written by WriteData; its choices must have this build's
// feature layout.
func ReadData(path string) ([]nn.Choice, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readData(bufio.NewReader(f))
}

func readData(r io.Reader) ([]nn.Choice, error) {
	dec := gob.NewDecoder(r)
	var h dataHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("not a choices file: %w", err)
	}
	if h.Magic != dataMagic {
		return nil, errors.New("not a choices file")
	}
	if h.FeatureVersion != abr.FeatureVersion {
		return nil, fmt.Errorf("choices of features v%d, this build computes v%d", h.FeatureVersion, abr.FeatureVersion)
	}
	if h.Choices < 0 || h.Choices > 1<<24 {
		return nil, fmt.Errorf("choices file: %d choices", h.Choices)
	}
	out := make([]nn.Choice, 0, min(h.Choices, 1<<16))
	for i := 0; i < h.Choices; i++ {
		var c nn.Choice
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("choice %d of %d: %w", i, h.Choices, err)
		}
		if err := checkChoice(c); err != nil {
			return nil, fmt.Errorf("choice %d: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func checkChoice(c nn.Choice) error {
	if len(c.X) < 2 || c.Target < 0 || c.Target >= len(c.X) || (c.Regret != nil && len(c.Regret) != len(c.X)) {
		return errors.New("malformed choice")
	}
	for _, x := range c.X {
		if len(x) != abr.Features {
			return fmt.Errorf("%d features, want %d", len(x), abr.Features)
		}
	}
	return nil
}
