// Package tensor holds the network operations strata's codec and enhancement models run:
// CHW float32 tensors, 3×3 and 1×1 convolutions (AVX2 kernels on amd64, bit-identical to the
// portable Go path that STRATA_NOSIMD=1 selects and to the CUDA kernels' CPU emulation),
// pixel shuffles, ReLU, and the safetensors weight format. Buffers are the caller's and
// reused; nothing here logs.
package tensor
