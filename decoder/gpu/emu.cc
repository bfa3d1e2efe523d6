//go:build emu

// The CPU emulation of kernels/decode.cu: the same source compiled by g++ through
// cuda_shim.h (no fused multiply-add, so float results match the Go engine bit for bit).
#pragma GCC optimize("fp-contract=off")
#include "decode.cu"

#define G dim3(gx, gy, gz), dim3(bx, by, bz), workers
#define GRID unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, int workers

extern "C" {
void emu_dequant(GRID, const int* q, const float* steps, float* out, i64 k, i64 hw, i64 qStride) {
	emu_launch(dequant, G, q, steps, out, k, hw, qStride);
}
void emu_obmc(GRID, const unsigned char* pool, i64 frameBytes, const i64* refIdx, const i64* futIdx, const int* mvs,
              const int* modes, float* out, i64 w, i64 h, i64 outStride, i64 c0) {
	emu_launch(obmc, G, pool, frameBytes, refIdx, futIdx, mvs, modes, out, w, h, outStride, c0);
}
void emu_synth(GRID, const float* S, float* cat, i64 w, i64 h, i64 catStride, i64 inter) {
	emu_launch(synth, G, S, cat, w, h, catStride, inter);
}
void emu_affine_relu(GRID, float* t, const float* embS, const float* embB, const i64* embOff, i64 channels, i64 hw,
                     i64 stride) {
	emu_launch(affine_relu, G, t, embS, embB, embOff, channels, hw, stride);
}
void emu_conv3x3(GRID, const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 h, i64 wd,
                 i64 inStride, i64 outStride, i64 mode) {
	emu_launch(conv3x3, G, in, w, bias, out, cin, cout, h, wd, inStride, outStride, mode);
}
void emu_quarter_frame(GRID, const float* cat, unsigned char* pool, i64 frameBytes, const i64* dstIdx, i64 w, i64 h,
                       i64 catStride) {
	emu_launch(quarter_frame, G, cat, pool, frameBytes, dstIdx, w, h, catStride);
}
void emu_yuv2rgba(GRID, const unsigned char* pool, i64 frameBytes, i64 idx, i64 w, i64 h, i64 cw, i64 ch,
                  unsigned char* rgba) {
	emu_launch(yuv2rgba, G, pool, frameBytes, idx, w, h, cw, ch, rgba);
}
}
