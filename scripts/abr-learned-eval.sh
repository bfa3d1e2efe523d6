#!/usr/bin/env bash
# The learned ABR policy against robustMPC / swift and the oracle on the validation split
# (learn.Split: 20 % of each training set, never trained on), as in README.md.
# Usage: scripts/abr-learned-eval.sh [PLOT_DIR]   (default docs/img)
# Needs bin/strata (make build) and ../shared.
set -euo pipefail
SHARED=${SHARED:-../shared}
STRATA=${STRATA:-bin/strata}
PLOTS=${1:-docs/img}
sets=(pensieve_train genet_fcc_train genet_norway_train oboe swift_grad_dev)
all=$(printf "$SHARED/abr/traces/%s," "${sets[@]}"); all=${all%,}

ratio() { # json lines on stdin: policy qoe_mean47; prints learned / base and oracle
  python3 -c "
import json,sys
m={}
for l in sys.stdin:
    d=json.loads(l); m[d['policy']]=d['qoe_mean47']
base='$1'
print(f\"  learned {m['learned']:.4f}  {base} {m[base]:.4f}  oracle {m['oracle']:.4f}  learned/{base} {m['learned']/m[base]:.4f}\")"
}

echo "## classic: envivio, QoE lin, mean47 on the validation split"
for s in "${sets[@]}"; do
  echo "$s:"; $STRATA sim --policy learned,mpc,oracle --traces "$SHARED/abr/traces/$s" --split val --json | ratio mpc
done
echo "all five sets:"
$STRATA sim --policy learned,mpc,bba,rate,oracle --traces "$all" --split val --plot "$PLOTS/learned-cdf.png"
$STRATA sim --policy learned,mpc,oracle --traces "$all" --split val --json | ratio mpc

echo
echo "## layered: assets/demo (S = 16), decoded quality, mean47 on the validation split"
for x in 0 1.5 1.1; do
  dfps=$(python3 -c "print(round(20*$x, 3))")
  echo "decode speed ${x}x real time (--decode-fps $dfps; 0 = instant):"
  $STRATA sim --video assets/demo --policy learned,swift,lifter,oracle --traces "$all" --split val --decode-fps "$dfps" --json | ratio swift
done
$STRATA sim --video assets/demo --policy learned,swift,lifter,oracle --traces "$all" --split val --decode-fps 22 --plot "$PLOTS/learned-layered-cdf.png" >/dev/null
