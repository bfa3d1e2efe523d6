// Package decoder is strata's neural-codec inference engine: model weights (a versioned
// safetensors file with a SHA-256 manifest), the decoder and encoder networks of
// docs/MODEL.md in pure Go on the CPU, and the frame packing they work on (YUV 4:2:0 as six
// half-resolution channels). Buffers are owned by a Decoder/Encoder instance and reused
// from frame to frame; nothing here logs.
package decoder
