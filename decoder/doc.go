// Package decoder is strata's layered neural codec (docs/MODEL.md): layered transform
// coding with a learned lapped transform, entropy-coded integer coefficients and a learned
// restoration stage, with overlapped block motion compensation along the LFR schedule.
//
// A frame's coefficients are 96 channels on the 1/8 luma grid (64 for each 8×8 luma block,
// 16 each for the 4×4 blocks of U and V). Layer l carries integers q_l; the decoder holding k
// layers dequantizes ŷ_k = Σ_{l≤k} q_l·s_l (steps per layer and channel) and runs once:
// a 3×3 convolution 96→96 (the synthesis, a lapped transform), depth-to-space back to the
// planes, + the prediction (P-frames: overlapped block motion compensation of the reference
// decoded with the same k) or mid-grey (I-frames), then three 3×3 convolutions at the 1/4 grid
// (restoration, with a per-(k, distance class) channel scale and bias) and a residual add.
// Integers are range-coded with static integer frequency tables chosen by context
// (decoder/entropy): no floating point in entropy decoding. The network operations are
// decoder/tensor's.
//
// The PyTorch reference is encoder/train/codec.py; export.py writes the weights (format
// version 2) and the golden vectors the tests compare against. Nothing here logs.
package decoder
