package player

import (
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/net/origin"
)

// layerOrigin encodes a synthetic 48×32 clip of the given frames (S = 4, 4-frame segments,
// the given layers), packages it layer by layer (no joined objects) and returns the default
// model and an origin serving it (closed when the test ends).
func layerOrigin(t *testing.T, frames, layers int) (*decoder.Model, *origin.Handler) {
	t.Helper()
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := testenc.EncodeDir(t, m, testenc.Synthetic(48, 32, frames), 4, layers, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{dir}, out, packager.Options{Joined: packager.JoinedNone}); err != nil {
		t.Fatal(err)
	}
	h, err := origin.New(origin.Config{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return m, h
}
