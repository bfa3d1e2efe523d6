package encoder

// asmSAD: the SSE2 kernels of sad_amd64.s (every amd64 CPU has SSE2).
const asmSAD = true

//go:noescape
func sadBlock(a *byte, as int, b *byte, bs int, n int) int

//go:noescape
func sadHalf16(a *byte, as int, r *byte, rs int, dx, dy int) int
