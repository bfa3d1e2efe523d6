// Package assets embeds what strata ships: the trained codec weights (model/, produced by
// encoder/train/export.py; format in docs/MODEL.md).
package assets

import _ "embed"

//go:embed model/nvc.safetensors
var modelWeights []byte

//go:embed model/manifest.json
var modelManifest []byte

// ModelWeights is the safetensors file of the trained codec.
func ModelWeights() []byte { return modelWeights }

// ModelManifest is manifest.json: format version, SHA-256 of the weights, training summary.
func ModelManifest() []byte { return modelManifest }

//go:embed model2/nvc2.safetensors
var model2Weights []byte

//go:embed model2/manifest.json
var model2Manifest []byte

// Model2Weights is the safetensors file of codec v2 (model2/, encoder/train/texport.py).
func Model2Weights() []byte { return model2Weights }

// Model2Manifest is codec v2's manifest.json.
func Model2Manifest() []byte { return model2Manifest }

//go:embed enhance/generic.senh
var enhanceGeneric []byte

// EnhanceGeneric is the generic enhancement model (decoder/enhance) a live origin's online
// training starts from (enhance/README.md says how it was made).
func EnhanceGeneric() []byte { return enhanceGeneric }
