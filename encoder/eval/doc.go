// Package eval measures the codec: Codec codes a clip at every sub-GOP size and layer count
// and compares it with ffmpeg's x264/x265 anchors (RD points, BD-rates, decode speed; what
// strata codec-eval prints), Rungs compares the full-resolution rung with bicubic and learned
// half-resolution rungs (strata resample-eval).
package eval
