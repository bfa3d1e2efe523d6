//go:build emu

// The CPU emulation of kernels/decode.cu: the same source compiled by g++ through
// cuda_shim.h (no fused multiply-add, so float results match the Go engine bit for bit).
#pragma GCC optimize("fp-contract=off")
#include "decode.cu"

#define G dim3(gx, gy, gz), dim3(bx, by, bz), workers
#define GRID unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, int workers

extern "C" {
void emu_inp_codes(GRID, const unsigned char* payloads, const float* w, const float* bias, const float* embS,
                   const float* embB, const i64* embOff, float* out, i64 bits, i64 layers, i64 k, i64 nb, i64 pb,
                   i64 cout) {
	emu_launch(inp_codes, G, payloads, w, bias, embS, embB, embOff, out, bits, layers, k, nb, pb, cout);
}
void emu_predict(GRID, const unsigned char* pool, i64 frameBytes, const i64* refIdx, const int* mvs, float* pred, i64 w,
                 i64 h) {
	emu_launch(predict, G, pool, frameBytes, refIdx, mvs, pred, w, h);
}
void emu_conv3x3(GRID, const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 h, i64 wd,
                 i64 inStride, i64 outStride, i64 mode) {
	emu_launch(conv3x3, G, in, w, bias, out, cin, cout, h, wd, inStride, outStride, mode);
}
void emu_conv1x1(GRID, const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 hw,
                 i64 inStride, i64 outStride, i64 mode) {
	emu_launch(conv1x1, G, in, w, bias, out, cin, cout, hw, inStride, outStride, mode);
}
void emu_shuffle(GRID, const float* in, float* out, i64 cout, i64 h, i64 w, i64 r, i64 inStride, i64 outStride,
                 i64 relu) {
	emu_launch(shuffle, G, in, out, cout, h, w, r, inStride, outStride, relu);
}
void emu_unshuffle(GRID, const float* in, float* out, i64 cin, i64 h, i64 w, i64 r, i64 inStride, i64 outStride,
                   i64 c0) {
	emu_launch(unshuffle, G, in, out, cin, h, w, r, inStride, outStride, c0);
}
void emu_reconstruct(GRID, const float* o, const float* pred, unsigned char* pool, i64 frameBytes, const i64* dstIdx,
                     i64 w, i64 h) {
	emu_launch(reconstruct, G, o, pred, pool, frameBytes, dstIdx, w, h);
}
void emu_yuv2rgba(GRID, const unsigned char* pool, i64 frameBytes, i64 idx, i64 w, i64 h, i64 cw, i64 ch,
                  unsigned char* rgba) {
	emu_launch(yuv2rgba, G, pool, frameBytes, idx, w, h, cw, ch, rgba);
}
}
