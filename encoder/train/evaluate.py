"""Evaluates a checkpoint (codec.py) on whole frames of the test clips,
against x264 medium and x264 intra-only (ffmpeg) on the same frames, with BD-rates.

    /usr/bin/python3 encoder/train/evaluate.py --ckpt build/train/ckpt.pt [--frames 17]

Structure as the player decodes: sub-GOPs of 8 (intra anchors, the LFR tree inside), vectors
searched on the original frames (motion.py), OBMC prediction from the decoded reference at
the same k, coefficients coded once from the top level's prediction. Intra/inter decision per
tree frame: the lower J = R + lambda_K * D at the top layer. Rate = the entropy model's ideal
code length of the integers + an estimate for the vectors (Exp-Golomb of the median-predicted
differences: an upper bound for the adaptive coder of docs/BITSTREAM.md).

Since bitstream version 3 (bi-prediction) this is a training monitor only: it codes every tree
frame from its past reference (no B-frames, no vector smoothing). The codec's measurements
come from the Go encoder: `strata codec-eval --weights DIR` (export.py output).
"""
import argparse
import glob
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402
from obmc import obmc  # noqa: E402
from codec import LAYERS, Codec  # noqa: E402
from train import LAMBDAS  # noqa: E402
from y4m import Y4M  # noqa: E402

TREE = ((4, 0, 2), (2, 0, 1), (6, 4, 1), (1, 0, 0), (3, 2, 0), (5, 4, 0), (7, 6, 0))  # (frame, ref, dclass)


def planes(y, u, v):
    f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)[None, None]  # noqa: E731
    return f(y), f(u), f(v)


def q8(p):
    return tuple(torch.round(a.clamp(0, 1) * 255) / 255 for a in p)


def mse3(rec, x, h, w):
    crop = ((h, w), (h // 2, w // 2), (h // 2, w // 2))
    return [((a - b)[..., :hh, :ww] ** 2).mean().item() for a, b, (hh, ww) in zip(rec, x, crop)]


def psnr(m):
    return 10 * math.log10(1 / max(m, 1e-12))


def eg_bits(d):
    d = abs(int(d))
    return 1 if d == 0 else 2 + 2 * int(math.floor(math.log2(d))) + 1


def mv_bits(mv):
    """mv: (nby, nbx, 2) half-pel. Median prediction from left, above, above-right."""
    nby, nbx, _ = mv.shape
    bits = 0
    for i in range(nby):
        for j in range(nbx):
            a = mv[i, j - 1] if j > 0 else np.zeros(2, int)
            b = mv[i - 1, j] if i > 0 else a
            c = mv[i - 1, j + 1] if i > 0 and j + 1 < nbx else (mv[i - 1, j - 1] if i > 0 and j > 0 else b)
            p = np.median(np.stack([a, b, c]), axis=0)
            bits += eg_bits(mv[i, j, 0] - p[0]) + eg_bits(mv[i, j, 1] - p[1])
    return bits


def evaluate(icodec, pcodec, frames, h, w, modes=True, log=None):
    n = len(frames)
    H, W = frames[0][0].shape
    npix = h * w
    lamK = LAMBDAS[-1] * 255.0 ** 2
    tot_bits = np.zeros(LAYERS)
    tot = np.zeros((LAYERS, 3))
    recon = {}
    by, bx = np.meshgrid(np.arange(0, H, 16), np.arange(0, W, 16), indexing="ij")
    chosen = []

    def cost(rec, x, bits):
        m = mse3(rec, x, h, w)
        return bits / npix + lamK * (6 * m[0] + m[1] + m[2]) / 8

    def intra(x):
        q = icodec.encode(*x)
        return [q8(icodec.decode(q[k - 1][0], k, 0)) for k in range(1, LAYERS + 1)], [b.item() for _, b in q]

    def account(i, x, rec, layer_bits, mode):
        cum = np.cumsum(layer_bits)
        for k in range(1, LAYERS + 1):
            recon[(i, k)] = rec[k - 1]
            m = mse3(rec[k - 1], x, h, w)
            tot_bits[k - 1] += cum[k - 1]
            tot[k - 1] += [psnr(m[0]), psnr((6 * m[0] + m[1] + m[2]) / 8), 0]
            if log is not None:
                log.append((i, k, mode, cum[k - 1] / npix, psnr(m[0]), psnr(m[1]), psnr(m[2])))

    with torch.no_grad():
        for g in range(0, n - 1, 8):
            for i in ([0] if g == 0 else []) + [g + 8]:
                x = planes(*frames[i])
                rec, bits = intra(x)
                account(i, x, rec, bits, "I")
            for f, r, d in TREE:
                i, ri = g + f, g + r
                x = planes(*frames[i])
                mv = motion.search(frames[i][0], frames[ri][0], by.ravel(), bx.ravel()).reshape(by.shape[0], by.shape[1], 2)
                mvt = torch.from_numpy(mv[None].astype(np.int64))
                preds = [q8(obmc(*recon[(ri, k)], mvt)) for k in range(1, LAYERS + 1)]
                q = pcodec.encode(*x, pred=preds[-1])
                rec = [q8(pcodec.decode(q[k - 1][0], k, d, preds[k - 1])) for k in range(1, LAYERS + 1)]
                bits = [b.item() for _, b in q]
                bits[0] += mv_bits(mv)
                mode = "P"
                if modes:
                    irec, ibits = intra(x)
                    if cost(irec[-1], x, sum(ibits)) < cost(rec[-1], x, sum(bits)):
                        rec, bits, mode = irec, ibits, "I"
                        chosen.append(i)
                account(i, x, rec, bits, mode)
    return tot_bits / n / npix, tot[:, 0] / n, tot[:, 1] / n, chosen


def x264_points(clip, n, intra, crfs=(18, 23, 28, 33, 38, 43)):
    """(bpp, PSNR-Y, PSNR-YUV 6:1:1) of x264 medium on the first n frames."""
    pts = []
    c = Y4M(clip)
    gop = ["-x264-params", "keyint=1"] if intra else ["-g", str(n)]
    with tempfile.TemporaryDirectory() as d:
        for crf in crfs:
            out = os.path.join(d, "x.mkv")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", clip, "-frames:v", str(n), "-c:v", "libx264",
                            "-preset", "medium", "-crf", str(crf)] + gop + [out], check=True)
            bits = 0
            probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                    "packet=size", "-of", "csv=p=0", out], capture_output=True, text=True, check=True)
            bits = 8 * sum(int(s) for s in probe.stdout.split())
            r = subprocess.run(["ffmpeg", "-i", out, "-i", clip, "-frames:v", str(n), "-lavfi", "[0][1]psnr=stats_file=" + d + "/s.txt",
                                "-f", "null", "-"], capture_output=True, text=True)
            ys, us, vs = [], [], []
            for line in open(d + "/s.txt"):
                kv = dict(t.split(":") for t in line.split() if ":" in t)
                ys.append(float(kv["mse_y"])), us.append(float(kv["mse_u"])), vs.append(float(kv["mse_v"]))
            py = np.mean([psnr(m / 255 ** 2) for m in ys])
            pyuv = np.mean([psnr((6 * a + b + cc) / 8 / 255 ** 2) for a, b, cc in zip(ys, us, vs)])
            pts.append((bits / n / (c.width * c.height), py, pyuv))
    return pts


def bd_rate(ref, test):
    """Bjontegaard delta rate (%) of test vs ref: cubic fits of log-rate over PSNR, integrated over
    the overlapping PSNR interval. ref/test: lists of (bpp, psnr)."""
    def fit(pts):
        p = np.array(sorted(pts, key=lambda t: t[1]))
        return np.polyfit(p[:, 1], np.log(p[:, 0]), min(3, len(p) - 1)), p[0, 1], p[-1, 1]
    fr, lo1, hi1 = fit(ref)
    ft, lo2, hi2 = fit(test)
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    if hi <= lo:
        return float("nan")
    ir, it = np.polyint(fr), np.polyint(ft)
    avg = ((np.polyval(it, hi) - np.polyval(it, lo)) - (np.polyval(ir, hi) - np.polyval(ir, lo))) / (hi - lo)
    return (math.exp(avg) - 1) * 100


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="build/train/ckpt.pt")
    ap.add_argument("--clips", default="/tmp/strata-media/test/*.y4m")
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-modes", action="store_true")
    ap.add_argument("--no-x264", action="store_true")
    ap.add_argument("--splice", default="", help="A.y4m,B.y4m,CUT: the scene-cut test instead of the clips")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    st = torch.load(args.ckpt, map_location="cpu")
    icodec, pcodec = Codec(False), Codec(True)
    icodec.load_state_dict({k: v.float() for k, v in st["i"].items()})
    pcodec.load_state_dict({k: v.float() for k, v in st["p"].items()})
    icodec.eval()
    pcodec.eval()
    print(f"checkpoint step {st['step']} ({st['elapsed'] / 60:.1f} min of training)")
    n = 1 + 8 * ((args.frames - 1) // 8)
    if args.splice:
        a, b, cut = args.splice.split(",")
        ca, cb = Y4M(a), Y4M(b)
        cut = int(cut)
        frames = [motion.pad16(*ca.frame(i)) for i in range(cut)] + [motion.pad16(*cb.frame(i)) for i in range(n - cut)]
        log = []
        *_, chosen = evaluate(icodec, pcodec, frames, ca.height, ca.width, not args.no_modes, log)
        print(f"splice at {cut} of {n}; intra chosen for tree frames {chosen}")
        ok = True
        for k in range(1, LAYERS + 1):
            rows = sorted(r for r in log if r[1] == k)
            after = [r for r in rows if r[0] >= cut]
            med = [float(np.median([r[4 + c] for r in after])) for c in range(3)]
            worst = [min(r[4 + c] for r in after) for c in range(3)]
            bad = [c for c in range(3) if worst[c] < med[c] - 3]
            ok &= not bad
            print(f"k={k}: after the cut median Y/U/V {med[0]:.2f}/{med[1]:.2f}/{med[2]:.2f}, worst "
                  f"{worst[0]:.2f}/{worst[1]:.2f}/{worst[2]:.2f} -> {'FAIL' if bad else 'ok'}")
            print("   " + " ".join(f"{r[0]}{r[2]}:{r[4]:.1f}/{r[5]:.1f}/{r[6]:.1f}" for r in rows))
        print("scene-cut test:", "pass" if ok else "FAIL")
        return
    for clip in sorted(glob.glob(args.clips)):
        c = Y4M(clip)
        frames = [motion.pad16(*c.frame(i)) for i in range(min(n, c.frames))]
        bpp, py, pyuv, chosen = evaluate(icodec, pcodec, frames, c.height, c.width, not args.no_modes)
        name = os.path.basename(clip)
        print(f"{name} ({len(frames)} frames, intra chosen for {chosen or 'none'}): " + "; ".join(
            f"k={k + 1} {bpp[k]:.4f} bpp {py[k]:.2f} Y {pyuv[k]:.2f} YUV" for k in range(LAYERS)), flush=True)
        if args.no_x264:
            continue
        ours_y = list(zip(bpp, py))
        ours_yuv = list(zip(bpp, pyuv))
        for label, intra in (("x264 medium", False), ("x264 intra", True)):
            pts = x264_points(clip, len(frames), intra)
            print(f"  {label}: " + "; ".join(f"{b:.4f} bpp {y:.2f} Y" for b, y, _ in pts))
            print(f"  BD-rate vs {label}: PSNR-Y {bd_rate([(b, y) for b, y, _ in pts], ours_y):+.1f} %, "
                  f"PSNR-YUV {bd_rate([(b, v) for b, _, v in pts], ours_yuv):+.1f} %", flush=True)


if __name__ == "__main__":
    main()
