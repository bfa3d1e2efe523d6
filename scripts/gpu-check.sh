#!/usr/bin/env bash
# Everything worth doing on a lent GPU, in one run, results in one folder (the device tool's
# $OUT): the CUDA tests (TestGPUDecodeEqualsCPU: GPU frames equal CPU frames) and
# `strata bench decode --backend cuda` at 640x360, 1280x720 and 1920x1080 for every S.
# The device machine may have no Go: build the bundle here first (`make gpu-bundle`, which
# writes build/gpu/{strata,cuda.test}) and carry build/gpu.
#   scripts/gpu-check.sh OUTDIR        (on the device machine, in the repository root)
set -uo pipefail
out=${1:?usage: scripts/gpu-check.sh OUTDIR}
mkdir -p "$out"
bin=build/gpu
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } > "$out/gpu.txt"
echo "== $(cat "$out/gpu.txt")"
(cd decoder/cuda && ../../$bin/cuda.test -test.v -test.count=1 -test.run 'TestOpen|TestGPU') 2>&1 | tee "$out/cuda-tests.txt"
rc=${PIPESTATUS[0]}
for res in 640x360 1280x720 1920x1080; do
  $bin/strata bench decode --backend cuda --res "$res" --subgop all --benchtime 3s --json > "$out/bench-cuda-$res.json" 2> "$out/bench-cuda-$res.err"
  $bin/strata bench decode --backend cuda --res "$res" --subgop all --benchtime 3s 2>&1 | grep -E '^(device|Benchmark)' | tee -a "$out/bench-cuda.txt"
done
exit $rc
