"""Golden vectors for the Go motion search: synthetic frames (integer formulas, reproduced
exactly by encoder/motion_test.go), the vectors motion.py finds, and the SHA-256 of the
compensated prediction.

    /usr/bin/python3 encoder/train/motion_golden.py > encoder/testdata/motion_golden.json
"""
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402


def synth_plane(w, h, t, salt):
    out = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            dx = t * (1 + (x // 48) % 3)
            dy = t * ((y // 32) % 3 - 1)
            X, Y = x + dx + salt, y + dy
            v = ((X * X * 3 + Y * Y * 5 + X * Y * 7) >> 5) ^ ((X * 13 + Y * 29) & 63)
            noise = ((x * 73856093) ^ (y * 19349663) ^ (t * 83492791 + salt)) >> 11 & 7
            out[y, x] = (v + noise) & 255
    return out


def synth(w, h, t):
    return synth_plane(w, h, t, 0), synth_plane(w // 2, h // 2, t, 1), synth_plane(w // 2, h // 2, t, 2)


def main():
    cases = []
    for w, h, t in ((176, 144, 2), (96, 64, 5)):
        ref, cur = synth(w, h, 0), synth(w, h, t)
        bys, bxs = np.meshgrid(np.arange(0, h, 16), np.arange(0, w, 16), indexing="ij")
        mvs = motion.search(cur[0], ref[0], bys.ravel(), bxs.ravel())
        py = np.zeros((h, w), np.uint8)
        pu = np.zeros((h // 2, w // 2), np.uint8)
        pv = np.zeros_like(pu)
        for j, (by, bx) in enumerate(zip(bys.ravel(), bxs.ravel())):
            a, b, c = motion.compensate(ref, by, bx, mvs[j])
            py[by:by + 16, bx:bx + 16] = a
            pu[by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = b
            pv[by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = c
        digest = hashlib.sha256(py.tobytes() + pu.tobytes() + pv.tobytes()).hexdigest()
        cases.append({"w": w, "h": h, "t": t, "mvs": mvs.tolist(), "pred_sha256": digest})
    json.dump({"generator": "encoder/train/motion_golden.py", "cases": cases}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
