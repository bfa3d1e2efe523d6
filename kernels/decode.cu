// strata's neural decoder as CUDA kernels (docs: ../shared/docs/CUDA.md, docs/GPU.md).
//
// One source of truth: nvcc compiles this file to decode.ptx for GPUs (compute_52, with
// --fmad=false), and g++ compiles it for the CPU through cuda_shim.h so tests run the very
// same kernels without a GPU. Every kernel works on a batch of frames (one LFR depth of
// one codec): blockIdx.z walks the frames. Each output value is computed with the same
// float32 operations in the same order as the Go CPU engine (decoder/conv.go and friends),
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

// inp_codes: code unpack + the first layer (1×1 conv over ±1 codes, 0 for layers not
// received) + the level embedding (scale, bias, ReLU). Thread: one block position (x)
// and one output channel (y); z: frame. payloads: per frame, k payloads of pb bytes.
// embOff[frame] is ((k−1)·DClasses + dc)·64.
extern "C" __global__ void inp_codes(const unsigned char* payloads, const float* w, const float* bias, const float* embS,
                          const float* embB, const i64* embOff, float* out, i64 bits, i64 layers, i64 k, i64 nb, i64 pb,
                          i64 cout) {
	i64 b = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 co = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	if (b >= nb || co >= cout) {
		return;
	}
	i64 cin = layers * bits;
	const float* wr = w + co * cin;
	float acc = bias[co];
	for (i64 ci = 0; ci < cin; ci++) {
		i64 l = ci / bits, j = ci % bits;
		float v = 0.0f;
		if (l < k) {
			const unsigned char* p = payloads + (f * k + l) * pb;
			i64 kk = b * bits + j;
			v = (p[kk >> 3] & (0x80 >> (kk & 7))) ? 1.0f : -1.0f;
		}
		acc = acc + wr[ci] * v;
	}
	i64 off = embOff[f] + co;
	float v = acc * embS[off] + embB[off];
	if (v < 0.0f) {
		v = 0.0f;
	}
	out[f * cout * nb + co * nb + b] = v;
}

// One motion-compensated sample, as decoder/mc.go's interp (clamped reads; n = 2 luma
// half-pel, 4 chroma quarter-pel of the same vector).
__device__ static inline int mc_sample(const unsigned char* p, i64 pw, i64 ph, i64 py, i64 px, int mvy, int mvx, int n) {
	int shift = n == 4 ? 2 : 1;
	int iy = mvy >> shift, fy = mvy & (n - 1);
	int ix = mvx >> shift, fx = mvx & (n - 1);
	int w00 = (n - fx) * (n - fy), w01 = fx * (n - fy), w10 = (n - fx) * fy, w11 = fx * fy;
	int round = n * n / 2, norm = 2 * shift;
	i64 ya = py + iy, yb = py + iy + 1, xa = px + ix, xb = px + ix + 1;
	ya = ya < 0 ? 0 : (ya >= ph ? ph - 1 : ya);
	yb = yb < 0 ? 0 : (yb >= ph ? ph - 1 : yb);
	xa = xa < 0 ? 0 : (xa >= pw ? pw - 1 : xa);
	xb = xb < 0 ? 0 : (xb >= pw ? pw - 1 : xb);
	return (w00 * (int)p[ya * pw + xa] + w01 * (int)p[ya * pw + xb] + w10 * (int)p[yb * pw + xa] +
	        w11 * (int)p[yb * pw + xb] + round) >> norm;
}

// predict: block motion compensation from the reference frame in the pool, packed into
// the 6 × h/2 × w/2 prediction tensor (values byte/255); refIdx[f] < 0 predicts flat 0.5
// (I-frames). mvs: per frame, (bw·bh) pairs (y, x) of int32 half-pel vectors.
// Thread: one half-resolution position (x, y); z: frame.
extern "C" __global__ void predict(const unsigned char* pool, i64 frameBytes, const i64* refIdx, const int* mvs, float* pred,
                        i64 w, i64 h) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	i64 hw2 = (w / 2) * (h / 2);
	if (x >= w / 2 || y >= h / 2) {
		return;
	}
	float* o = pred + f * 6 * hw2 + y * (w / 2) + x;
	i64 ref = refIdx[f];
	if (ref < 0) {
		for (int c = 0; c < 6; c++) {
			o[c * hw2] = 0.5f;
		}
		return;
	}
	const float s = 1.0f / 255.0f;
	const unsigned char* Y = pool + ref * frameBytes;
	const unsigned char* U = Y + w * h;
	const unsigned char* V = U + w * h / 4;
	i64 bw = w / 16;
	const int* mv = mvs + f * 2 * bw * (h / 16);
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			i64 py = 2 * y + i, px = 2 * x + j;
			const int* v = mv + 2 * ((py / 16) * bw + px / 16);
			o[(i * 2 + j) * hw2] = (float)mc_sample(Y, w, h, py, px, v[0], v[1], 2) * s;
		}
	}
	const int* v = mv + 2 * ((y / 8) * bw + x / 8);
	o[4 * hw2] = (float)mc_sample(U, w / 2, h / 2, y, x, v[0], v[1], 4) * s;
	o[5 * hw2] = (float)mc_sample(V, w / 2, h / 2, y, x, v[0], v[1], 4) * s;
}

// conv3x3: stride 1, zero padding 1, weights [cout][cin][3][3]; the sum runs over input
// channels, then rows, each row's three taps summed first (as decoder/conv.go's register-
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

// conv1x1: weights [cout][cin]; the sum runs over input channels in order.
// Thread: one position (x over h·w); z: frame·cout + output channel.
extern "C" __global__ void conv1x1(const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 hw,
                        i64 inStride, i64 outStride, i64 mode) {
	i64 p = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 f = blockIdx.z / cout, co = blockIdx.z % cout;
	if (p >= hw) {
		return;
	}
	const float* src = in + f * inStride + p;
	const float* wr = w + co * cin;
	float acc = bias[co];
	for (i64 ci = 0; ci < cin; ci++) {
		acc = acc + wr[ci] * src[ci * hw];
	}
	epilogue(out + f * outStride + co * hw + p, acc, mode);
}

// shuffle: depth-to-space by r (torch pixel_shuffle), out[c][y·r+i][x·r+j] =
// in[c·r²+i·r+j][y][x], optionally ReLU'd. Thread: one output position; z: frame·cout + c.
extern "C" __global__ void shuffle(const float* in, float* out, i64 cout, i64 h, i64 w, i64 r, i64 inStride, i64 outStride,
                        i64 relu) {
	i64 ox = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 oy = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z / cout, c = blockIdx.z % cout;
	if (ox >= w * r || oy >= h * r) {
		return;
	}
	i64 y = oy / r, i = oy % r, x = ox / r, j = ox % r;
	float v = in[f * inStride + (c * r * r + i * r + j) * h * w + y * w + x];
	if (relu && v < 0.0f) {
		v = 0.0f;
	}
	out[f * outStride + c * h * r * w * r + oy * w * r + ox] = v;
}

// unshuffle: space-to-depth by r (torch pixel_unshuffle) into channels c0… of out:
// out[c0 + c·r²+i·r+j][y][x] = in[c][y·r+i][x·r+j]. in has cin channels of (h·r)×(w·r).
// Thread: one output position (x, y) of h×w; z: frame·cin + c.
extern "C" __global__ void unshuffle(const float* in, float* out, i64 cin, i64 h, i64 w, i64 r, i64 inStride, i64 outStride,
                          i64 c0) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z / cin, c = blockIdx.z % cin;
	if (x >= w || y >= h) {
		return;
	}
	const float* src = in + f * inStride + c * h * r * w * r;
	float* dst = out + f * outStride + y * w + x;
	for (i64 i = 0; i < r; i++) {
		for (i64 j = 0; j < r; j++) {
			dst[(c0 + c * r * r + i * r + j) * h * w] = src[(y * r + i) * w * r + x * r + j];
		}
	}
}

// reconstruct: the output layer's depth-to-space by 2 plus the prediction, converted to
// 8 bits (round, clamp) into the frame pool. o: 24 × h/4 × w/4, pred: 6 × h/2 × w/2.
// Thread: one half-resolution position (x, y); z: frame.
extern "C" __global__ void reconstruct(const float* o, const float* pred, unsigned char* pool, i64 frameBytes, const i64* dstIdx,
                            i64 w, i64 h) {
	i64 x = blockIdx.x * (i64)blockDim.x + threadIdx.x;
	i64 y = blockIdx.y * (i64)blockDim.y + threadIdx.y;
	i64 f = blockIdx.z;
	i64 w2 = w / 2, h2 = h / 2, w4 = w / 4, h4 = h / 4;
	if (x >= w2 || y >= h2) {
		return;
	}
	const float* of = o + f * 24 * h4 * w4;
	const float* pf = pred + f * 6 * h2 * w2;
	unsigned char* Y = pool + dstIdx[f] * frameBytes;
	unsigned char* U = Y + w * h;
	unsigned char* V = U + w * h / 4;
	i64 yy = y / 2, i = y % 2, xx = x / 2, j = x % 2;
	for (int c = 0; c < 6; c++) {
		float v = of[(c * 4 + i * 2 + j) * h4 * w4 + yy * w4 + xx];
		v = v + pf[c * h2 * w2 + y * w2 + x];
		unsigned char b = to8(v);
		if (c < 4) {
			Y[(2 * y + c / 2) * w + 2 * x + c % 2] = b;
		} else if (c == 4) {
			U[y * w2 + x] = b;
		} else {
			V[y * w2 + x] = b;
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
