#!/usr/bin/env bash
# Puts what the CUDA build and tests need on a machine without a GPU or toolkit into DIR:
# include/cuda.h, lib/libcuda.so (+ libcuda.so.1, the driver API stub) from Debian's
# nvidia-cuda-dev, and bin/ptxas from nvidia-cuda-toolkit (non-free; enabled here when
# missing). The .debs are downloaded, unpacked and deleted. Idempotent: nothing happens
# when DIR is complete. Usage: scripts/cuda-stubs.sh DIR
set -euo pipefail
dir=${1:?usage: cuda-stubs.sh DIR}
if [ -f "$dir/include/cuda.h" ] && [ -f "$dir/lib/libcuda.so.1" ] && [ -x "$dir/bin/ptxas" ]; then
  exit 0
fi
if ! apt-cache policy nvidia-cuda-dev 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    sed -i 's/^Components: main$/Components: main contrib non-free/' "$src"
  else
    sed -i 's/^\(deb .*debian.* main\)$/\1 contrib non-free/' /etc/apt/sources.list
  fi
  apt-get update -q
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"  # apt-get download runs as _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q nvidia-cuda-dev nvidia-cuda-toolkit)
mkdir -p "$tmp/x" "$dir/include" "$dir/lib" "$dir/bin"
dpkg-deb --fsys-tarfile "$tmp"/nvidia-cuda-dev_*.deb | tar -x -C "$tmp/x" ./usr/include/cuda.h ./usr/include/cudaTypedefs.h ./usr/lib/x86_64-linux-gnu/stubs/libcuda.so 2>/dev/null || \
  dpkg-deb -x "$tmp"/nvidia-cuda-dev_*.deb "$tmp/x"
dpkg-deb --fsys-tarfile "$tmp"/nvidia-cuda-toolkit_*.deb | tar -x -C "$tmp/x" ./usr/bin/ptxas
cp "$tmp/x/usr/include/cuda.h" "$dir/include/"
cp "$tmp/x/usr/lib/x86_64-linux-gnu/stubs/libcuda.so" "$dir/lib/"
ln -sf libcuda.so "$dir/lib/libcuda.so.1"
cp "$tmp/x/usr/bin/ptxas" "$dir/bin/"
echo "cuda-stubs: $dir ready (cuda.h, stub libcuda, ptxas)"
