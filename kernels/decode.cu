// strata's neural decoder (decoder/) as CUDA kernels (docs: ../shared/docs/CUDA.md, docs/GPU.md).
//
// One source of truth: nvcc compiles this file to decode.ptx for GPUs (compute_52, with
// --fmad=false), and g++ compiles it for the CPU through cuda_shim.h so tests run the very
// same kernels without a GPU. Every kernel works on a batch of frames (one LFR depth of
// one codec): blockIdx.z walks the frames. Each output value is computed with the same
// float32 operations in the same order as the Go CPU engine (decoder/tensor/conv.go and friends),
// so the 8-bit frames are bit-identical.
//
// Kernel parameters are pointers or 64-bit integers only (gorgonia.org/cu copies every
// parameter as 8 bytes); tensors are planar (channel, row, column) float32, one tensor per
// frame at a fixed stride; frames are 8-bit Y, U, V planes in a pool of frameBytes each.
#include "cuda_shim.h"

typedef long long i64;

__device__ static inline unsigned char to8(float v) {
	float x = v * 255.0f + 0.5f;
	if (!(x > 0.0f)) {
		return 0;
	}
	if (x >= 255.0f) {
		return 255;
	}
	return (unsigned char)x;
}

// Epilogue modes of the convolutions: what is done with acc (bias included).
#define EPI_NONE 0     // out = acc
#define EPI_RELU 1     // out = relu(acc)
#define EPI_ADD 2      // out = out + acc (residual, in place)
#define EPI_ADD_RELU 3 // out = relu(out + acc)

__device__ static inline void epilogue(float* o, float acc, i64 mode) {
	float v = acc;
	if (mode == EPI_ADD || mode == EPI_ADD_RELU) {
		v = *o + acc;
	}
	if ((mode == EPI_RELU || mode == EPI_ADD_RELU) && v < 0.0f) {
		v = 0.0f;
	}
	*o = v;
}

// dequant: the codec's coefficients from the integers of the first k layers,
// out[c][p] = Σ_{l<k} q[l][c][p]·steps[l·96 + c] summed in layer order (decoder's
// dequantize). q: per frame, layers × 96 × hw int32 at qStride; out: 96 × hw per frame.
// Thread: one position (x); z: frame·96 + channel.
extern "C" __global__ void dequant(const int* q, const float* steps, float* out, i64 k, i64 hw, i64 qStride) {
	i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 f = blockIdx.z / 96, c = blockIdx.z % 96;
	if (p >= hw) {
		return;
	}
	float acc = 0.0f;
	for (i64 l = 0; l < k; l++) {
		acc = acc + (float)q[f * qStride + (l * 96 + c) * hw + p] * steps[l * 96 + c];
	}
	out[f * 96 * hw + c * hw + p] = acc;
}

__constant__ static const int obmcW16[16] = {10, 12, 14, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 12, 10};
__constant__ static const int obmcW8[8] = {10, 14, 16, 16, 16, 16, 14, 10};

// One bilinear sample at (py, px) displaced by (mvy, mvx)/n, clamped reads, integer rounding
// (decoder/obmc.go's sample).
__device__ static inline int bl_sample(const unsigned char* p, i64 pw, i64 ph, i64 py, i64 px, int mvy, int mvx, int n) {
	int iy = mvy >= 0 ? mvy / n : -((-mvy + n - 1) / n), ix = mvx >= 0 ? mvx / n : -((-mvx + n - 1) / n);
	int fy = mvy - iy * n, fx = mvx - ix * n;
	i64 ya = py + iy, yb = ya + 1, xa = px + ix, xb = xa + 1;
	ya = ya < 0 ? 0 : (ya >= ph ? ph - 1 : ya);
	yb = yb < 0 ? 0 : (yb >= ph ? ph - 1 : yb);
	xa = xa < 0 ? 0 : (xa >= pw ? pw - 1 : xa);
	xb = xb < 0 ? 0 : (xb >= pw ? pw - 1 : xb);
	int s = (n - fx) * (n - fy) * (int)p[ya * pw + xa] + fx * (n - fy) * (int)p[ya * pw + xb] +
	        (n - fx) * fy * (int)p[yb * pw + xa] + fx * fy * (int)p[yb * pw + xb];
	return (s + n * n / 2) / (n * n);
}

// One block's compensated value at (y, x): forward (mode 0: past P, vector mv[0..1]),
// backward (1: future F, mv[2..3]) or both, (f + b + 1) >> 1 (decoder/obmc.go).
__device__ static inline int blk_val(const unsigned char* P, const unsigned char* F, i64 pw, i64 ph, i64 y, i64 x,
                                     const int* mv, int mode, int n) {
	if (mode == 1) {
		return bl_sample(F, pw, ph, y, x, mv[2], mv[3], n);
	}
	int a = bl_sample(P, pw, ph, y, x, mv[0], mv[1], n);
	if (mode == 0) {
		return a;
	}
	return (a + bl_sample(F, pw, ph, y, x, mv[2], mv[3], n) + 1) >> 1;
}

// One OBMC pixel of a plane (block size bs: 16 luma, 8 chroma): the four blocks' values
// blended with separable weights in 1/16 (decoder/obmc.go). mv: 4 ints per block
// (forward y, x, backward y, x); modes: one per block.
__device__ static inline int obmc_px(const unsigned char* P, const unsigned char* F, i64 pw, i64 ph, i64 y, i64 x,
                                     const int* mv, const int* modes, i64 nbx, i64 nby, int bs, int n) {
	const int* wt = bs == 16 ? obmcW16 : obmcW8;
	i64 oy = y / bs, offy = y % bs, ox = x / bs, offx = x % bs;
	i64 ny = offy < bs / 2 ? oy - 1 : oy + 1, nx = offx < bs / 2 ? ox - 1 : ox + 1;
	ny = ny < 0 ? 0 : (ny >= nby ? nby - 1 : ny);
	nx = nx < 0 ? 0 : (nx >= nbx ? nbx - 1 : nx);
	int wy = wt[offy], wx = wt[offx];
	i64 a = oy * nbx + ox, b = oy * nbx + nx, c = ny * nbx + ox, d = ny * nbx + nx;
	int acc = blk_val(P, F, pw, ph, y, x, mv + 4 * a, modes[a], n) * wy * wx;
	acc += blk_val(P, F, pw, ph, y, x, mv + 4 * b, modes[b], n) * wy * (16 - wx);
	acc += blk_val(P, F, pw, ph, y, x, mv + 4 * c, modes[c], n) * (16 - wy) * wx;
	acc += blk_val(P, F, pw, ph, y, x, mv + 4 * d, modes[d], n) * (16 - wy) * (16 - wx);
	return (acc + 128) >> 8;
}

// obmc: the OBMC prediction of frames whose reference (refIdx[f]) and, for bi-predicted
// frames, future reference (futIdx[f]; −1: none) are in the pool, written as floats byte/255
// in the 1/4-grid layout (16 Y phases, 4 U, 4 V) into channels c0… of out (outStride per
// frame). mvs: per frame, (w/16)·(h/16) blocks of 4 int32 (forward y, x, backward y, x) in
// half-pel units; modes: per frame, one int32 per block (0 forward, 1 backward, 2 both; all 0
// without a future reference). Thread: one 1/4-grid position (x, y); z: frame.
extern "C" __global__ void obmc(const unsigned char* pool, i64 frameBytes, const i64* refIdx, const i64* futIdx, const int* mvs,
                                const int* modes, float* out, i64 w, i64 h, i64 outStride, i64 c0) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	i64 w4 = w / 4, h4 = h / 4, hw4 = w4 * h4;
	if (x >= w4 || y >= h4) {
		return;
	}
	const float s = 1.0f / 255.0f;
	const unsigned char* Y = pool + refIdx[f] * frameBytes;
	const unsigned char* U = Y + w * h;
	const unsigned char* V = U + w * h / 4;
	const unsigned char* FY = futIdx[f] >= 0 ? pool + futIdx[f] * frameBytes : Y;
	const unsigned char* FU = FY + w * h;
	const unsigned char* FV = FU + w * h / 4;
	i64 nbx = w / 16, nby = h / 16;
	const int* mv = mvs + f * 4 * nbx * nby;
	const int* md = modes + f * nbx * nby;
	float* o = out + f * outStride + c0 * hw4 + y * w4 + x;
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++) {
			o[(i * 4 + j) * hw4] = (float)obmc_px(Y, FY, w, h, 4 * y + i, 4 * x + j, mv, md, nbx, nby, 16, 2) * s;
		}
	}
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			o[(16 + i * 2 + j) * hw4] = (float)obmc_px(U, FU, w / 2, h / 2, 2 * y + i, 2 * x + j, mv, md, nbx, nby, 8, 4) * s;
			o[(20 + i * 2 + j) * hw4] = (float)obmc_px(V, FV, w / 2, h / 2, 2 * y + i, 2 * x + j, mv, md, nbx, nby, 8, 4) * s;
		}
	}
}

// synth: the synthesis output S (96 × h/8 × w/8: depth-to-space by 8 for Y, by 4 for U and
// V) plus the prediction (inter: channels 24… of cat, already there) or ½ (intra), written in
// the 1/4-grid layout into channels 0…23 of cat. Thread: one 1/4-grid position; z: frame.
extern "C" __global__ void synth(const float* S, float* cat, i64 w, i64 h, i64 catStride, i64 inter) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	i64 w4 = w / 4, h4 = h / 4, hw4 = w4 * h4, w8 = w / 8, hw8 = w8 * (h / 8);
	if (x >= w4 || y >= h4) {
		return;
	}
	const float* sf = S + f * 96 * hw8;
	float* o = cat + f * catStride + y * w4 + x;
	for (int c = 0; c < 24; c++) {
		i64 ch, gy, gx;
		if (c < 16) { // Y: pixel (4y + c/4, 4x + c%4) of pixel_shuffle(S[0:64], 8)
			i64 py = 4 * y + c / 4, px = 4 * x + c % 4;
			ch = (py % 8) * 8 + px % 8, gy = py / 8, gx = px / 8;
		} else { // U (16…19), V (20…23): pixel of pixel_shuffle(S[64:80] or S[80:96], 4)
			i64 cc = (c - 16) % 4, uy = 2 * y + cc / 2, ux = 2 * x + cc % 2;
			ch = (c < 20 ? 64 : 80) + (uy % 4) * 4 + ux % 4, gy = uy / 4, gx = ux / 4;
		}
		float v = sf[ch * hw8 + gy * w8 + gx];
		if (inter) {
			v = v + o[(24 + c) * hw4];
		} else {
			v = v + 0.5f;
		}
		o[c * hw4] = v;
	}
}

// affine_relu: the level embedding, t = relu(t·scale + bias) per channel, scale and bias at
// embOff[f] (((k−1)·DClasses + d)·channels). t: channels × hw per frame at stride.
// Thread: one position (x); z: frame·channels + channel.
extern "C" __global__ void affine_relu(float* t, const float* embS, const float* embB, const i64* embOff, i64 channels,
                                       i64 hw, i64 stride) {
	i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 f = blockIdx.z / channels, c = blockIdx.z % channels;
	if (p >= hw) {
		return;
	}
	float* v = t + f * stride + c * hw + p;
	i64 off = embOff[f] + c;
	float r = *v * embS[off] + embB[off];
	*v = r > 0.0f ? r : 0.0f;
}

// conv3x3: stride 1, zero padding 1, weights [cout][cin][3][3]; the sum runs over input
// channels, then rows, each row's three taps summed first (as decoder/tensor/conv.go's register-
// blocked kernel). Thread: one pixel (x, y); z: frame·cout + output channel.
extern "C" __global__ void conv3x3(const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 h,
                        i64 wd, i64 inStride, i64 outStride, i64 mode) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z / cout, co = blockIdx.z % cout;
	if (x >= wd || y >= h) {
		return;
	}
	const float* src = in + f * inStride;
	const float* wr = w + co * cin * 9;
	float acc = bias[co];
	for (i64 ci = 0; ci < cin; ci++) {
		const float* p = src + ci * h * wd;
		for (int ky = 0; ky < 3; ky++) {
			i64 yy = y + ky - 1;
			float i0 = 0.0f, i1 = 0.0f, i2 = 0.0f;
			if (yy >= 0 && yy < h) {
				const float* r = p + yy * wd;
				i0 = x > 0 ? r[x - 1] : 0.0f;
				i1 = r[x];
				i2 = x + 1 < wd ? r[x + 1] : 0.0f;
			}
			const float* k = wr + ci * 9 + ky * 3;
			acc += k[0] * i0 + k[1] * i1 + k[2] * i2;
		}
	}
	epilogue(out + f * outStride + co * h * wd + y * wd + x, acc, mode);
}

// quarter_frame: the 1/4-grid reconstruction (channels 0…23 of cat) as an 8-bit frame in
// the pool (dstIdx[f]). Thread: one 1/4-grid position; z: frame.
extern "C" __global__ void quarter_frame(const float* cat, unsigned char* pool, i64 frameBytes, const i64* dstIdx, i64 w,
                                         i64 h, i64 catStride) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	i64 w4 = w / 4, h4 = h / 4, hw4 = w4 * h4;
	if (x >= w4 || y >= h4) {
		return;
	}
	const float* o = cat + f * catStride + y * w4 + x;
	unsigned char* Y = pool + dstIdx[f] * frameBytes;
	unsigned char* U = Y + w * h;
	unsigned char* V = U + w * h / 4;
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++) {
			Y[(4 * y + i) * w + 4 * x + j] = to8(o[(i * 4 + j) * hw4]);
		}
	}
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			U[(2 * y + i) * (w / 2) + 2 * x + j] = to8(o[(16 + i * 2 + j) * hw4]);
			V[(2 * y + i) * (w / 2) + 2 * x + j] = to8(o[(20 + i * 2 + j) * hw4]);
		}
	}
}

// yuv2rgba: BT.601 limited range, integer (decoder.ToRGBA), of the top-left cw×ch of a
// pool frame of coded size w×h, nearest-neighbour chroma. Thread: one pixel.
extern "C" __global__ void yuv2rgba(const unsigned char* pool, i64 frameBytes, i64 idx, i64 w, i64 h, i64 cw, i64 ch,
                         unsigned char* rgba) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	if (x >= cw || y >= ch) {
		return;
	}
	const unsigned char* Y = pool + idx * frameBytes;
	const unsigned char* U = Y + w * h;
	const unsigned char* V = U + w * h / 4;
	int c = 298 * ((int)Y[y * w + x] - 16);
	int d = (int)U[(y / 2) * (w / 2) + x / 2] - 128, e = (int)V[(y / 2) * (w / 2) + x / 2] - 128;
	int r = (c + 409 * e + 128) >> 8, g = (c - 100 * d - 208 * e + 128) >> 8, b = (c + 516 * d + 128) >> 8;
	unsigned char* o = rgba + 4 * (y * cw + x);
	o[0] = r < 0 ? 0 : (r > 255 ? 255 : r);
	o[1] = g < 0 ? 0 : (g > 255 ? 255 : g);
	o[2] = b < 0 ? 0 : (b > 255 ? 255 : b);
	o[3] = 255;
}
