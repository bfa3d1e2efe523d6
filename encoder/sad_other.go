//go:build !amd64

package encoder

// asmSAD is false off amd64: motion.go's portable loops run.
const asmSAD = false

func sadBlock(a *byte, as int, b *byte, bs int, n int) int { panic("sadBlock off amd64") }

func sadHalf16(a *byte, as int, r *byte, rs int, dx, dy int) int { panic("sadHalf16 off amd64") }
