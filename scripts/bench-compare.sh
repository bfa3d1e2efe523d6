#!/usr/bin/env bash
# Decode speed side by side, in one run on this machine: strata's CPU engine at S = 8 with
# every layer, at one core and at two (the scaling), with the fastest kernels this CPU has
# (AVX-512 where present), with AVX2 only (STRATA_NOAVX512=1) and on the portable Go path
# (STRATA_NOSIMD=1), at 640x360 (the demo), 1280x720 and 1920x1080; then ffmpeg's H.264
# decoder (2 threads) on the demo's source encoded by x264 medium at the same sizes.
#   scripts/bench-compare.sh [../shared]
set -euo pipefail
shared=${1:-../shared}
cd "$(dirname "$0")/.."
go build -o bin/ ./cmd/strata
for res in 640x360 1280x720 1920x1080; do
  echo "== strata bench decode $res, S=8, all layers (fastest kernels)"
  bin/strata bench decode --backend cpu --res "$res" --subgop 8 --benchtime 3s --cores 1,2 | grep -E '^(cpu|Benchmark)'
  echo "== the same, AVX2 only (STRATA_NOAVX512=1)"
  STRATA_NOAVX512=1 bin/strata bench decode --backend cpu --res "$res" --subgop 8 --benchtime 3s --cores 2 | grep -E '^Benchmark'
  echo "== the same, portable Go (STRATA_NOSIMD=1)"
  STRATA_NOSIMD=1 bin/strata bench decode --backend cpu --res "$res" --subgop 8 --benchtime 2s --cores 2 | grep -E '^Benchmark'
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for res in 640:360 1280:720 1920:1080; do
  ffmpeg -v error -i "$shared/media/demo/bbb_720p_30s_vp8.webm" -an -vf "scale=$res" -r 24 -c:v libx264 -preset medium -crf 23 "$tmp/demo.mp4"
  out=$(ffmpeg -threads 2 -benchmark -i "$tmp/demo.mp4" -an -f null - 2>&1 | tr '\r' '\n')
  frames=$(grep -o 'frame= *[0-9]*' <<<"$out" | tail -1 | tr -dc 0-9)
  rtime=$(grep -o 'rtime=[0-9.]*' <<<"$out" | tail -1 | cut -d= -f2)
  echo "== ffmpeg H.264 (x264 medium, CRF 23) decode of the demo source at ${res/:/x}, 2 threads: $frames frames in ${rtime} s = $(awk -v f="$frames" -v r="$rtime" 'BEGIN { printf "%.0f", f / r }') frames/s"
  rm -f "$tmp/demo.mp4"
done
