// Package gpu decodes segments with the kernels of kernels/decode.cu on a Device: a CUDA
// GPU (decoder/cuda, build tag cuda) or the CPU emulation (Emu), which runs the same
// kernel source compiled by g++. The host side — buffers, weights uploaded once, the LFR
// depth batches, launch geometry, launch counting — is shared, so tests on the emulation
// check exactly what a GPU would be asked to do.
package gpu

import (
	"os"
	"runtime"
	"strings"
)

// Kernel names a kernel of kernels/decode.cu.
type Kernel int

// The kernels, in decode.cu's order.
const (
	Dequant Kernel = iota
	OBMC
	Synth
	AffineReLU
	Conv3x3
	QuarterFrame
	YUV2RGBA
	numKernels
)

var kernelNames = [...]string{"dequant", "obmc", "synth", "affine_relu", "conv3x3", "quarter_frame", "yuv2rgba"}

// Name is the kernel's entry point (its .entry in the PTX).
func (k Kernel) Name() string { return kernelNames[k] }

// Kernels lists every kernel.
func Kernels() []Kernel {
	out := make([]Kernel, numKernels)
	for i := range out {
		out[i] = Kernel(i)
	}
	return out
}

// Dim3 is a CUDA grid or block size.
type Dim3 struct{ X, Y, Z int }

// Buf is device memory.
type Buf interface {
	Size() int
}

// Arg is a kernel parameter: a device pointer (a Buf plus a byte offset) or a 64-bit
// integer (every scalar parameter of decode.cu is 64-bit).
type Arg struct {
	Buf Buf
	Off int
	Val int64
}

// P is a pointer argument.
func P(b Buf, off int) Arg { return Arg{Buf: b, Off: off} }

// I is an integer argument.
func I(v int) Arg { return Arg{Val: int64(v)} }

// Device runs kernels. Methods are called from one goroutine at a time.
type Device interface {
	// Name identifies the device: "emu:<cpu>" or "cuda:<gpu>".
	Name() string
	Alloc(bytes int) (Buf, error)
	Free(Buf)
	Upload(dst Buf, off int, src []byte) error
	Download(dst []byte, src Buf, off int) error
	Launch(k Kernel, grid, block Dim3, args ...Arg) error
	// Sync waits for every launch to finish.
	Sync() error
	Close() error
}

// grid2 covers w×h with blocks of bx×by threads, z deep.
func grid2(w, h, z, bx, by int) (Dim3, Dim3) {
	return Dim3{(w + bx - 1) / bx, (h + by - 1) / by, z}, Dim3{bx, by, 1}
}

// CPUName is the CPU model from /proc/cpuinfo (GOARCH elsewhere).
func CPUName() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
