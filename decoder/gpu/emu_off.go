//go:build !emu

package gpu

import "errors"

// EmuBuilt says whether this binary holds the kernel emulator (build tag emu).
const EmuBuilt = false

// ErrNoEmu is NewEmu's error in binaries built without the emulator.
var ErrNoEmu = errors.New("this binary has no CUDA-kernel emulator: build with -tags emu (make build-emu)")

// NewEmu would return the CPU emulation of the CUDA kernels; this build has none.
func NewEmu(workers int) (Device, error) { return nil, ErrNoEmu }
