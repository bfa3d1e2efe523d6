//go:build !amd64

package tensor

// SIMD is false off amd64: the portable Go path runs.
var SIMD = false

// AVX512 is false off amd64.
var AVX512 = false

func conv3x3x32z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32) {
	panic("conv3x3x32z without AVX-512")
}

func conv3x3x8(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32) {
	panic("conv3x3x8 without SIMD")
}

func axpy4x8(a0, a1, a2, a3 *float32, w *float32, src *float32, n int) {
	panic("axpy4x8 without SIMD")
}

func conv3x3x16z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32) {
	panic("conv3x3x16z without AVX-512")
}
