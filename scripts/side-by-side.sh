#!/usr/bin/env bash
# The README's side-by-side picture: one frame of the demo decoded at its top layer next to
# x264 medium at the same bitrate (two-pass), and the source.
#   scripts/side-by-side.sh [FRAME] [STREAM_DIR] [OUT.png]
# STREAM_DIR is a `strata encode` output of build/demo/bbb360.y4m (make demo writes
# build/demo/enc-s8, -s16, -s32); the bitrate is that stream's, all layers, over the whole clip.
set -euo pipefail
frame=${1:-300}
dir=${2:-build/demo/enc-s32}
out=${3:-docs/img/strata-vs-x264.png}
src=build/demo/bbb360.y4m
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin/strata decode --in "$dir" --out "$tmp/ours.y4m" >/dev/null
read -r bytes frames fps < <(python3 -c "
import json,sys
s=json.load(open('$dir/stream.json'))
b=sum(q['levels'][-1]['bytes'] for q in s['quality'])
print(b, s['frames'], s['fps_num']/s['fps_den'])")
kbps=$(python3 -c "print(round($bytes*8*$fps/$frames/1000))")
echo "strata: $bytes bytes for $frames frames = $kbps kbit/s (all layers)"
( cd "$tmp" && ffmpeg -v error -y -i "$OLDPWD/$src" -c:v libx264 -preset medium -b:v "${kbps}k" -pass 1 -f null /dev/null &&
  ffmpeg -v error -y -i "$OLDPWD/$src" -c:v libx264 -preset medium -b:v "${kbps}k" -pass 2 x264.mkv )
x264_kbps=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$tmp/x264.mkv")
echo "x264 medium two-pass: $((x264_kbps / 1000)) kbit/s"
psnr() { ffmpeg -i "$1" -i "$src" -lavfi "[0][1]psnr" -f null - 2>&1 | grep -o 'y:[0-9.]*' | tail -1; }
echo "strata PSNR $(psnr "$tmp/ours.y4m"), x264 PSNR $(psnr "$tmp/x264.mkv") (whole clip)"
label() { echo "drawtext=text='$1':x=8:y=8:fontsize=18:fontcolor=white:box=1:boxcolor=black@0.6"; }
ffmpeg -v error -y -i "$tmp/ours.y4m" -i "$tmp/x264.mkv" -i "$src" -filter_complex \
  "[0]select=eq(n\,$frame),$(label "strata (all layers) $kbps kbit/s")[a];[1]select=eq(n\,$frame),$(label "x264 medium $((x264_kbps / 1000)) kbit/s")[b];[2]select=eq(n\,$frame),$(label source)[c];[a][b][c]hstack=3" \
  -frames:v 1 "$out"
echo "wrote $out (frame $frame)"
