// Package cuda is the GPU backend: the kernels of kernels/decode.cu loaded from the
// embedded PTX through gorgonia.org/cu, run by decoder/gpu's segment decoder. It is
// built with -tags cuda (and links against libcuda); without the tag, Open reports
// ErrNoCUDA. On a machine without a usable GPU, Open returns an error wrapping ErrNoCUDA
// with the driver's code and message, and the player decodes on the CPU instead.
package cuda

import (
	"errors"
	"fmt"
)

// ErrNoCUDA: no usable CUDA device (no driver, a stub library, no GPU, or a build without
// CUDA).
var ErrNoCUDA = errors.New("no usable CUDA device")

// InitError is what the driver said when it was initialised.
type InitError struct {
	Code int // CUresult: 100 CUDA_ERROR_NO_DEVICE, 34 CUDA_ERROR_STUB_LIBRARY, …
	Msg  string
}

func (e *InitError) Error() string {
	return fmt.Sprintf("%v: driver error %d (%s)", ErrNoCUDA, e.Code, e.Msg)
}

// Unwrap makes errors.Is(err, ErrNoCUDA) hold.
func (e *InitError) Unwrap() error { return ErrNoCUDA }

// driverMessage names the driver results Open can meet without a GPU.
func driverMessage(code int) string {
	switch code {
	case 34:
		return "CUDA_ERROR_STUB_LIBRARY: the stub libcuda is loaded, not a real driver"
	case 35:
		return "CUDA_ERROR_INSUFFICIENT_DRIVER: the driver is older than the runtime"
	case 100:
		return "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected"
	case 999:
		return "CUDA_ERROR_UNKNOWN"
	case -1:
		return "cuInit was never called"
	case -2:
		return "this binary was built without -tags cuda"
	}
	return "see the CUDA driver API's CUresult"
}
