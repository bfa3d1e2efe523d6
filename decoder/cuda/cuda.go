//go:build cuda

package cuda

/*
#cgo LDFLAGS: -ldl
#include <cuda.h>
#include <dlfcn.h>

// gorgonia.org/cu calls cuInit in its package initialiser and exits the process when it
// fails. This definition interposes (the executable's symbol wins over libcuda's): it
// calls the driver's cuInit, records the result for Open and tells cu all went well.
static int strata_cuinit_rc = -1;

CUresult CUDAAPI cuInit(unsigned int flags) {
	typedef CUresult (*init_fn)(unsigned int);
	init_fn real = (init_fn)dlsym(RTLD_NEXT, "cuInit");
	strata_cuinit_rc = real == NULL ? 999 : (int)real(flags);
	return CUDA_SUCCESS;
}

static int strata_cuinit_result(void) { return strata_cuinit_rc; }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/strata-player/strata/decoder/gpu"
	"github.com/strata-player/strata/kernels"
	"gorgonia.org/cu"
)

// Built reports whether this binary has the CUDA backend.
const Built = true

// Device is one GPU with its context, the loaded kernel module and a stream.
type Device struct {
	name   string
	ctx    cu.CUContext
	fns    []cu.Function
	stream cu.Stream
	live   map[*buf]bool
}

type buf struct {
	p    cu.DevicePtr
	size int
}

func (b *buf) Size() int { return b.size }

// Open initialises GPU ordinal: context, module (the embedded PTX), functions, stream.
func Open(ordinal int) (gpu.Device, error) {
	if rc := int(C.strata_cuinit_result()); rc != 0 {
		return nil, &InitError{Code: rc, Msg: driverMessage(rc)}
	}
	n, err := cu.NumDevices()
	if err != nil || n == 0 {
		return nil, &InitError{Code: 100, Msg: driverMessage(100)}
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d of %d", ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, err
	}
	name, _ := dev.Name()
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return nil, fmt.Errorf("cuda: context on %s: %w", name, err)
	}
	d := &Device{name: "cuda:" + name, ctx: ctx, live: map[*buf]bool{}}
	if err := d.lock(); err != nil {
		return nil, err
	}
	defer d.unlock()
	mod, err := cu.LoadData(kernels.PTX)
	if err != nil {
		return nil, fmt.Errorf("cuda: loading the kernels' PTX: %w", err)
	}
	for _, k := range gpu.Kernels() {
		fn, err := mod.Function(k.Name())
		if err != nil {
			return nil, fmt.Errorf("cuda: kernel %s: %w", k.Name(), err)
		}
		d.fns = append(d.fns, fn)
	}
	if d.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return nil, fmt.Errorf("cuda: stream: %w", err)
	}
	return d, nil
}

// lock binds the calling goroutine's OS thread to the device's context.
func (d *Device) lock() error { return d.ctx.Lock() }

func (d *Device) unlock() { d.ctx.Unlock() }

// Name implements gpu.Device.
func (d *Device) Name() string { return d.name }

// Alloc implements gpu.Device.
func (d *Device) Alloc(bytes int) (gpu.Buf, error) {
	if err := d.lock(); err != nil {
		return nil, err
	}
	defer d.unlock()
	p, err := cu.MemAlloc(int64(bytes))
	if err != nil {
		return nil, fmt.Errorf("cuda: alloc %d bytes: %w", bytes, err)
	}
	b := &buf{p: p, size: bytes}
	d.live[b] = true
	return b, nil
}

// Free implements gpu.Device.
func (d *Device) Free(b gpu.Buf) {
	cb := b.(*buf)
	if !d.live[cb] || d.lock() != nil {
		return
	}
	defer d.unlock()
	cu.MemFree(cb.p)
	delete(d.live, cb)
}

func (d *Device) span(b gpu.Buf, off, n int) (*buf, error) {
	cb, ok := b.(*buf)
	if !ok || !d.live[cb] || off < 0 || n < 0 || off+n > cb.size {
		return nil, fmt.Errorf("cuda: access [%d, %d) outside a buffer", off, off+n)
	}
	return cb, nil
}

// Upload implements gpu.Device.
func (d *Device) Upload(dst gpu.Buf, off int, src []byte) error {
	cb, err := d.span(dst, off, len(src))
	if err != nil || len(src) == 0 {
		return err
	}
	if err := d.lock(); err != nil {
		return err
	}
	defer d.unlock()
	return cu.MemcpyHtoD(cb.p+cu.DevicePtr(off), unsafe.Pointer(&src[0]), int64(len(src)))
}

// Download implements gpu.Device.
func (d *Device) Download(dst []byte, src gpu.Buf, off int) error {
	cb, err := d.span(src, off, len(dst))
	if err != nil || len(dst) == 0 {
		return err
	}
	if err := d.lock(); err != nil {
		return err
	}
	defer d.unlock()
	return cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), cb.p+cu.DevicePtr(off), int64(len(dst)))
}

// Launch implements gpu.Device: every parameter is passed as 8 bytes (device pointers
// and int64 scalars), as decode.cu declares them.
func (d *Device) Launch(k gpu.Kernel, g, b gpu.Dim3, args ...gpu.Arg) error {
	if int(k) < 0 || int(k) >= len(d.fns) {
		return fmt.Errorf("cuda: unknown kernel %d", k)
	}
	vals := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		if a.Buf != nil {
			cb, err := d.span(a.Buf, a.Off, 0)
			if err != nil {
				return err
			}
			vals[i] = uint64(cb.p) + uint64(a.Off)
		} else {
			vals[i] = uint64(a.Val)
		}
		params[i] = unsafe.Pointer(&vals[i])
	}
	if err := d.lock(); err != nil {
		return err
	}
	defer d.unlock()
	return d.fns[k].Launch(g.X, g.Y, g.Z, b.X, b.Y, b.Z, 0, d.stream, params)
}

// Sync implements gpu.Device.
func (d *Device) Sync() error {
	if err := d.lock(); err != nil {
		return err
	}
	defer d.unlock()
	return cu.Synchronize()
}

// Close implements gpu.Device.
func (d *Device) Close() error {
	for b := range d.live {
		d.Free(b)
	}
	return d.ctx.Destroy()
}
