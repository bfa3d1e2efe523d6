#!/usr/bin/env bash
# Decode speed side by side, in one run on this machine, 2 threads each: strata's CPU engine
# (AVX2 path and portable Go path), PyTorch on the same weights, and ffmpeg's H.264 decoder
# on the demo's source at the same resolution.
#   scripts/bench-compare.sh [../shared]
set -euo pipefail
shared=${1:-../shared}
cd "$(dirname "$0")/.."
go build -o bin/ ./cmd/strata
echo "== strata bench decode (AVX2 where the CPU has it)"
GOMAXPROCS=2 bin/strata bench decode --backend cpu --subgop 16 --benchtime 3s | grep -E '^(cpu|Benchmark)'
echo "== strata bench decode, portable Go (STRATA_NOSIMD=1)"
GOMAXPROCS=2 STRATA_NOSIMD=1 bin/strata bench decode --backend cpu --subgop 16 --benchtime 3s | grep -E '^Benchmark'
echo "== PyTorch, same P decoder, 640x368, 2 threads (and Go's P-frame network benchmark)"
/usr/bin/python3 encoder/train/bench_torch.py --threads 2 --seconds 10 | tail -3
echo "== ffmpeg H.264 (x264 medium, CRF 23) decode of the demo source at 640x360, 2 threads"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ffmpeg -v error -i "$shared/media/demo/bbb_720p_30s_vp8.webm" -vf scale=640:360 -r 20 -c:v libx264 -preset medium -crf 23 "$tmp/demo.mp4"
ffmpeg -threads 2 -benchmark -i "$tmp/demo.mp4" -f null - 2>&1 | awk '
  /frame=/ { for (i = 1; i <= NF; i++) if ($i ~ /^frame=/) { f = $i; sub("frame=", "", f); if (f == "") f = $(i+1) } }
  /bench: utime/ { for (i = 1; i <= NF; i++) if ($i ~ /^rtime=/) { r = $i; sub("rtime=", "", r); sub("s", "", r) } }
  END { printf "ffmpeg h264: %d frames in %.3f s = %.0f frames/s\n", f, r, f / r }'
