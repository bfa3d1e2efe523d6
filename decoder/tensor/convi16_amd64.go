package tensor

import (
	"os"

	"golang.org/x/sys/cpu"
)

// VNNI reports whether ConvI16 uses its AVX-512 VNNI kernel (with SIMD, unless
// STRATA_NOAVX512 is set); the integers are the same either way.
var VNNI = SIMD && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && os.Getenv("STRATA_NOAVX512") == ""

//go:noescape
func conv3x3i16x64(o0, o1, o2, o3 *int32, in *int32, rowStride, planeStride int, w *int32, pairs int)
