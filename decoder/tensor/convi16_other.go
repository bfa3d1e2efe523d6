//go:build !amd64

package tensor

// VNNI is false off amd64.
var VNNI = false

func conv3x3i16x64(o0, o1, o2, o3 *int32, in *int32, rowStride, planeStride int, w *int32, pairs int) {
	panic("conv3x3i16x64 without AVX-512 VNNI")
}
