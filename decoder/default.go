package decoder

import (
	"sync"

	"github.com/strata-player/strata/assets"
)

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the shipped the codec model (assets/model), parsed once.
func Default() (*Model, error) {
	defaultOnce.Do(func() {
		defaultModel, defaultErr = LoadModel(assets.ModelWeights(), assets.ModelManifest())
	})
	return defaultModel, defaultErr
}
