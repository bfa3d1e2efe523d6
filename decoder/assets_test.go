package decoder

import "github.com/strata-player/strata/assets"

func assetsWeights() []byte  { return assets.ModelWeights() }
func assetsManifest() []byte { return assets.ModelManifest() }
