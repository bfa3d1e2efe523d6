// cuda_shim.h lets decode.cu compile as plain C++ (g++) so tests run the same kernels on
// the CPU: __global__/__device__ vanish, threadIdx/blockIdx/blockDim/gridDim are
// thread-local, and emu_launch runs a grid — blocks spread over worker threads, the
// threads of a block one after another (the kernels use neither __syncthreads nor shared
// memory, so any order is a valid CUDA schedule). Under nvcc it is empty.
#pragma once
#ifndef __CUDACC__
#include <thread>
#include <vector>

struct dim3 {
	unsigned x, y, z;
	dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __constant__

// emu_launch runs kernel over grid × block with `workers` OS threads.
template <typename... P, typename... A>
void emu_launch(void (*kernel)(P...), dim3 grid, dim3 block, int workers, A... args) {
	const unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
	if (workers < 1) {
		workers = 1;
	}
	if ((unsigned long long)workers > blocks) {
		workers = (int)blocks;
	}
	auto run = [&](int w) {
		gridDim = grid;
		blockDim = block;
		for (unsigned long long b = w; b < blocks; b += workers) {
			blockIdx = dim3(b % grid.x, (b / grid.x) % grid.y, b / ((unsigned long long)grid.x * grid.y));
			for (unsigned tz = 0; tz < block.z; tz++) {
				for (unsigned ty = 0; ty < block.y; ty++) {
					for (unsigned tx = 0; tx < block.x; tx++) {
						threadIdx = dim3(tx, ty, tz);
						kernel(args...);
					}
				}
			}
		}
	};
	if (workers <= 1) {
		run(0);
		return;
	}
	std::vector<std::thread> ts;
	for (int w = 0; w < workers; w++) {
		ts.emplace_back(run, w);
	}
	for (auto& t : ts) {
		t.join();
	}
}
#endif
