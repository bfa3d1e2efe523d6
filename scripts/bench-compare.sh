#!/usr/bin/env bash
# Decode speed side by side, in one run on this machine, 2 threads each: strata's CPU engine
# (AVX2 path and portable Go path) for every sub-GOP size at 640x360 and 1280x720, and
# ffmpeg's H.264 decoder on the demo's source at the same resolutions.
#   scripts/bench-compare.sh [../shared]
set -euo pipefail
shared=${1:-../shared}
cd "$(dirname "$0")/.."
go build -o bin/ ./cmd/strata
export GOMAXPROCS=2
for res in 640x360 1280x720; do
  echo "== strata bench decode $res (AVX2 where the CPU has it)"
  bin/strata bench decode --backend cpu --res "$res" --subgop all --benchtime 2s | grep -E '^(cpu|Benchmark)'
  echo "== strata bench decode $res, portable Go (STRATA_NOSIMD=1)"
  STRATA_NOSIMD=1 bin/strata bench decode --backend cpu --res "$res" --subgop 16 --benchtime 2s | grep -E '^Benchmark'
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for res in 640:360 1280:720; do
  ffmpeg -v error -i "$shared/media/demo/bbb_720p_30s_vp8.webm" -an -vf "scale=$res" -r 20 -c:v libx264 -preset medium -crf 23 "$tmp/demo.mp4"
  out=$(ffmpeg -threads 2 -benchmark -i "$tmp/demo.mp4" -an -f null - 2>&1 | tr '\r' '\n')
  frames=$(grep -o 'frame= *[0-9]*' <<<"$out" | tail -1 | tr -dc 0-9)
  rtime=$(grep -o 'rtime=[0-9.]*' <<<"$out" | tail -1 | cut -d= -f2)
  echo "== ffmpeg H.264 (x264 medium, CRF 23) decode of the demo source at ${res/:/x}, 2 threads: $frames frames in ${rtime} s = $(awk -v f="$frames" -v r="$rtime" 'BEGIN { printf "%.0f", f / r }') frames/s"
  rm -f "$tmp/demo.mp4"
done
