// Package assets embeds what strata ships: the trained codec weights (model/), the
// enhancement and resampling models, and the demo stream.
package assets

import _ "embed"

//go:embed model/weights.safetensors
var modelWeights []byte

//go:embed model/manifest.json
var modelManifest []byte

// ModelWeights is the safetensors file of the codec's trained weights (model/, written by
// encoder/train/export.py; format in docs/MODEL.md).
func ModelWeights() []byte { return modelWeights }

// ModelManifest is model/manifest.json: format version, SHA-256 of the weights, training summary.
func ModelManifest() []byte { return modelManifest }

//go:embed enhance/generic.senh
var enhanceGeneric []byte

// EnhanceGeneric is the generic enhancement model (decoder/enhance) a live origin's online
// training starts from (enhance/README.md says how it was made).
func EnhanceGeneric() []byte { return enhanceGeneric }
