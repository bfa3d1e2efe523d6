"""Go / PyTorch decode speed on this machine, from one run.

    /usr/bin/python3 encoder/train/bench_torch.py [--threads 2] [--seconds 10]

Times the exported P-frame decoder (assets/model) on a 640x368 frame in PyTorch with
--threads threads, then runs the Go benchmark (go test -bench DecodeP640x368/k=all) with
GOMAXPROCS equal to --threads, and prints both frame rates and their ratio.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import load_exported  # noqa: E402


def torch_fps(m, threads, seconds):
    torch.set_num_threads(threads)
    h, w = 368 // 2, 640 // 2
    g = torch.Generator().manual_seed(1)
    pred = torch.rand(1, 6, h, w, generator=g)
    codes = torch.where(torch.rand(1, m.layers * m.bits, h // 8, w // 8, generator=g) < 0.5, -1.0, 1.0)
    with torch.no_grad():
        for _ in range(3):
            m.dec(codes, m.layers, 0, pred)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            m.dec(codes, m.layers, 0, pred)
            n += 1
    return n / (time.perf_counter() - t0)


def go_fps(threads, seconds):
    env = dict(os.environ, GOMAXPROCS=str(threads))
    out = subprocess.run(["go", "test", "-run", "^$", "-bench", "DecodeP640x368/k=all",
                          "-benchtime", f"{seconds}s", "./decoder"],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"([\d.]+) frames/s", out)
    if not m:
        raise SystemExit("no frames/s in go test output:\n" + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="assets/model/nvc.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    m = load_exported(args.weights)["p"]
    t = torch_fps(m, args.threads, args.seconds)
    g = go_fps(args.threads, int(args.seconds))
    print(f"P-frame decoder, 640x368, {args.threads} thread(s): PyTorch {torch.__version__} {t:.1f} frames/s, "
          f"Go {g:.1f} frames/s, Go/PyTorch = {g / t:.2f}")


if __name__ == "__main__":
    main()
