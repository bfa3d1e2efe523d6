#!/usr/bin/env bash
# ABR evaluation of the layered policies (issue: Swift + LiFteR), as in README.md:
# every policy on three trace sets for each stream, then decode-bound runs comparing lifter
# with mpc on a decoded-only buffer. Usage: scripts/abr-eval.sh [STREAM_DIR...]
# (default: the demo's S=8 variant and build/eval/mix-s8 when present; `make abr-eval`
# encodes the latter first). Needs bin/strata (make build) and ../shared.
set -euo pipefail
SHARED=${SHARED:-../shared}
STRATA=${STRATA:-bin/strata}
streams=("$@")
if [ ${#streams[@]} -eq 0 ]; then
  streams=(assets/demo)
  [ -f build/eval/mix-s8/stream.json ] && streams+=(build/eval/mix-s8)
fi
sets=(pensieve_train oboe swift_grad_dev)
for v in "${streams[@]}"; do
  fps=$(python3 -c "import json,glob,sys
f=glob.glob('$v/stream.json') or sorted(glob.glob('$v/quality-s8.json'))
d=json.load(open(f[0])); print(d['fps_num']/d['fps_den'])")
  echo "## $v (${fps} fps)"
  for s in "${sets[@]}"; do
    echo
    $STRATA sim --video "$v" --subgop 8 --policy swift,lifter,mpc,bola,bba,rate --traces "$SHARED/abr/traces/$s"
  done
  for x in 1.5 1.2 1.1; do
    dfps=$(python3 -c "print(round($fps*$x, 3))")
    for s in "${sets[@]}"; do
      echo
      echo "decode-bound: ${dfps} frames/s (${x}x real time), decoded-only buffer for the classic policies"
      $STRATA sim --video "$v" --subgop 8 --policy lifter,swift,mpc --decoded-buffer --decode-fps "$dfps" --traces "$SHARED/abr/traces/$s"
    done
  done
  echo
done
