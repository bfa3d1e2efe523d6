package nvc2

import (
	"sync"

	"github.com/strata-player/strata/assets"
)

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the shipped codec v2 model (assets/model2), parsed once.
func Default() (*Model, error) {
	defaultOnce.Do(func() {
		defaultModel, defaultErr = LoadModel(assets.Model2Weights(), assets.Model2Manifest())
	})
	return defaultModel, defaultErr
}
