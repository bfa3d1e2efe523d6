//go:build !cuda

package cuda

import "github.com/strata-player/strata/decoder/gpu"

// Built reports whether this binary has the CUDA backend.
const Built = false

// Open reports that this build has no CUDA backend.
func Open(ordinal int) (gpu.Device, error) {
	return nil, &InitError{Code: -2, Msg: driverMessage(-2)}
}
