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

//go:noescape
func conv3x3x8(o0, o1, o2, o3 *float32, in *float32, rowStride, planeStride int, w *float32, cin int, bias *float32)

//go:noescape
func axpy4x8(a0, a1, a2, a3 *float32, w *float32, src *float32, n int)
