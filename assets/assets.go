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
