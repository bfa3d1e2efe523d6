package tensor

import (
	"os"

	"golang.org/x/sys/cpu"
)

// SIMD reports whether the AVX2 kernels run (amd64 with AVX2, unless the environment
// variable STRATA_NOSIMD is set: the portable Go path, for tests and comparisons). Both
// paths compute every value with the same operations in the same order: the frames are
// bit-identical.
var SIMD = cpu.X86.HasAVX2 && os.Getenv("STRATA_NOSIMD") == ""

// AVX512 reports whether the 3×3 convolution uses its AVX-512 kernel where a row allows
// (with SIMD; unless STRATA_NOAVX512 is set): the same operations per value again, so the
// frames stay bit-identical.
var AVX512 = cpu.X86.HasAVX512F && os.Getenv("STRATA_NOAVX512") == ""

//go:noescape
func conv3x3x16z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)

//go:noescape
func conv3x3x32z(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)

//go:noescape
func conv3x3x8(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)

//go:noescape
func axpy4x8(a0, a1, a2, a3 *float32, w *float32, src *float32, n int)
