//go:build emu

package gpu

/*
#cgo CXXFLAGS: -O2 -std=c++17 -I${SRCDIR}/../../kernels
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include <string.h>

typedef long long i64;
#define GRID unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, int workers
void emu_dequant(GRID, const int* q, const float* steps, float* out, i64 k, i64 hw, i64 qStride);
void emu_obmc(GRID, const unsigned char* pool, i64 frameBytes, const i64* refIdx, const i64* futIdx, const int* mvs,
              const int* modes, float* out, i64 w, i64 h, i64 outStride, i64 c0);
void emu_synth(GRID, const float* S, float* cat, i64 w, i64 h, i64 catStride, i64 inter);
void emu_affine_relu(GRID, float* t, const float* embS, const float* embB, const i64* embOff, i64 channels, i64 hw, i64 stride);
void emu_conv3x3(GRID, const float* in, const float* w, const float* bias, float* out, i64 cin, i64 cout, i64 h, i64 wd,
                 i64 inStride, i64 outStride, i64 mode);
void emu_quarter_frame(GRID, const float* cat, unsigned char* pool, i64 frameBytes, const i64* dstIdx, i64 w, i64 h, i64 catStride);
void emu_yuv2rgba(GRID, const unsigned char* pool, i64 frameBytes, i64 idx, i64 w, i64 h, i64 cw, i64 ch, unsigned char* rgba);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Emu is the CPU emulation device: buffers are C heap memory, launches run the kernels
// compiled by g++ on Workers threads.
type Emu struct {
	Workers int // threads per launch (0: one per CPU)
	name    string
	live    map[*emuBuf]bool
}

type emuBuf struct {
	p    unsafe.Pointer
	size int
}

func (b *emuBuf) Size() int { return b.size }

// EmuBuilt says whether this binary holds the kernel emulator (build tag emu).
const EmuBuilt = true

// NewEmu returns the emulation device, named after this machine's CPU, running each launch
// on workers threads (0: one per CPU).
func NewEmu(workers int) (Device, error) {
	return &Emu{Workers: workers, name: "emu:" + CPUName(), live: map[*emuBuf]bool{}}, nil
}

// Name implements Device.
func (e *Emu) Name() string { return e.name }

// Alloc implements Device.
func (e *Emu) Alloc(bytes int) (Buf, error) {
	if bytes <= 0 {
		return nil, fmt.Errorf("emu: alloc of %d bytes", bytes)
	}
	p := C.calloc(C.size_t(bytes), 1)
	if p == nil {
		return nil, errors.New("emu: out of memory")
	}
	b := &emuBuf{p: p, size: bytes}
	e.live[b] = true
	return b, nil
}

// Free implements Device.
func (e *Emu) Free(b Buf) {
	eb := b.(*emuBuf)
	if e.live[eb] {
		delete(e.live, eb)
		C.free(eb.p)
	}
}

func (e *Emu) span(b Buf, off, n int) (*emuBuf, error) {
	eb, ok := b.(*emuBuf)
	if !ok || !e.live[eb] || off < 0 || n < 0 || off+n > eb.size {
		return nil, fmt.Errorf("emu: access [%d, %d) outside a buffer", off, off+n)
	}
	return eb, nil
}

// Upload implements Device.
func (e *Emu) Upload(dst Buf, off int, src []byte) error {
	eb, err := e.span(dst, off, len(src))
	if err != nil || len(src) == 0 {
		return err
	}
	C.memcpy(unsafe.Add(eb.p, off), unsafe.Pointer(&src[0]), C.size_t(len(src)))
	return nil
}

// Download implements Device.
func (e *Emu) Download(dst []byte, src Buf, off int) error {
	eb, err := e.span(src, off, len(dst))
	if err != nil || len(dst) == 0 {
		return err
	}
	C.memcpy(unsafe.Pointer(&dst[0]), unsafe.Add(eb.p, off), C.size_t(len(dst)))
	return nil
}

// Sync implements Device (launches are synchronous).
func (e *Emu) Sync() error { return nil }

// Close implements Device.
func (e *Emu) Close() error {
	for b := range e.live {
		e.Free(b)
	}
	return nil
}

// Launch implements Device.
func (e *Emu) Launch(k Kernel, g, b Dim3, args ...Arg) error {
	want := [...]int{6, 11, 6, 7, 11, 7, 8}
	if k < 0 || k >= numKernels {
		return fmt.Errorf("emu: unknown kernel %d", k)
	}
	if err := checkArgs(k, args, want[k]); err != nil {
		return err
	}
	for _, d := range []Dim3{g, b} {
		if d.X < 1 || d.Y < 1 || d.Z < 1 {
			return fmt.Errorf("emu: %s launched with grid %v block %v", k.Name(), g, b)
		}
	}
	ptr := make([]unsafe.Pointer, len(args))
	val := make([]C.i64, len(args))
	for i, a := range args {
		if a.Buf != nil {
			eb, err := e.span(a.Buf, a.Off, 0)
			if err != nil {
				return fmt.Errorf("emu: %s parameter %d: %w", k.Name(), i, err)
			}
			ptr[i] = unsafe.Add(eb.p, a.Off)
		}
		val[i] = C.i64(a.Val)
	}
	w := e.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	gx, gy, gz, bx, by, bz, cw := C.uint(g.X), C.uint(g.Y), C.uint(g.Z), C.uint(b.X), C.uint(b.Y), C.uint(b.Z), C.int(w)
	u8 := func(i int) *C.uchar { return (*C.uchar)(ptr[i]) }
	f32 := func(i int) *C.float { return (*C.float)(ptr[i]) }
	i64p := func(i int) *C.i64 { return (*C.i64)(ptr[i]) }
	switch k {
	case Dequant:
		C.emu_dequant(gx, gy, gz, bx, by, bz, cw, (*C.int)(ptr[0]), f32(1), f32(2), val[3], val[4], val[5])
	case OBMC:
		C.emu_obmc(gx, gy, gz, bx, by, bz, cw, u8(0), val[1], i64p(2), i64p(3), (*C.int)(ptr[4]), (*C.int)(ptr[5]), f32(6), val[7], val[8],
			val[9], val[10])
	case Synth:
		C.emu_synth(gx, gy, gz, bx, by, bz, cw, f32(0), f32(1), val[2], val[3], val[4], val[5])
	case AffineReLU:
		C.emu_affine_relu(gx, gy, gz, bx, by, bz, cw, f32(0), f32(1), f32(2), i64p(3), val[4], val[5], val[6])
	case Conv3x3:
		C.emu_conv3x3(gx, gy, gz, bx, by, bz, cw, f32(0), f32(1), f32(2), f32(3), val[4], val[5], val[6], val[7], val[8], val[9], val[10])
	case QuarterFrame:
		C.emu_quarter_frame(gx, gy, gz, bx, by, bz, cw, f32(0), u8(1), val[2], i64p(3), val[4], val[5], val[6])
	case YUV2RGBA:
		C.emu_yuv2rgba(gx, gy, gz, bx, by, bz, cw, u8(0), val[1], val[2], val[3], val[4], val[5], val[6], u8(7))
	}
	return nil
}

// checkArgs checks a launch's parameter count against the kernel's.
func checkArgs(k Kernel, args []Arg, want int) error {
	if len(args) != want {
		return fmt.Errorf("gpu: kernel %s takes %d parameters, got %d", k.Name(), want, len(args))
	}
	return nil
}
