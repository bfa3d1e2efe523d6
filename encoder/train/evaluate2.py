"""Evaluates a codec v2 checkpoint on whole frames of the test clips.

    /usr/bin/python3 encoder/train/evaluate2.py --ckpt build/train2/ckpt.pt [--frames 17]

For each clip: sub-GOPs of 8 (anchors intra, the LFR tree inside: 4<-0, 2<-0, 6<-4, 1<-0,
3<-2, 5<-4, 7<-6), vectors searched on the original frames (motion.py, as the Go encoder),
OBMC prediction from the decoded reference at the same k (what a player with k layers
has), the latent coded once from the top-level chain. Rate = the entropy model's ideal code
length of the rounded symbols (what the range coder will spend within a fraction of a
percent; motion vectors not counted yet). Prints bpp, PSNR-Y and PSNR-YUV (6:1:1) per k.

Intra/inter decision: every tree frame is also coded as an intra frame, and the mode with
the lower rate-distortion cost at the top layer, J = R + lambda_K * D (the training loss's
terms), is kept (--no-modes codes every tree frame as a P-frame).

    --splice A.y4m,B.y4m,CUT   scene-cut test: frames 0..CUT-1 of A then B's frames from 0,
                               per-frame PSNR-Y/U/V at every k, and the check that no frame
                               after the cut is more than 3 dB below the median after it.
"""
import argparse
import glob
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402
from codec2 import LAYERS, Codec, laplace_cdf, obmc, pack6, unpack6  # noqa: E402
from train2 import LAMBDAS  # noqa: E402
from y4m import Y4M  # noqa: E402

TREE = ((4, 0, 2), (2, 0, 1), (6, 4, 1), (1, 0, 0), (3, 2, 0), (5, 4, 0), (7, 6, 0))  # (frame, ref, dclass)


def bits_of(codec, y, d):
    """Ideal code length per layer of the rounded symbols, and the dequantized latents."""
    if codec.ent.mode == "groups":
        return [(yh, b.sum().item()) for yh, b in codec.ent.quantize(y, d, False)]
    steps = codec.ent.steps()
    prev = torch.zeros_like(y)
    prev_zero = torch.ones_like(y, dtype=torch.bool)
    out = []
    for l in range(LAYERS):
        s = steps[l].view(1, -1, 1, 1)
        q = torch.round((y - prev) / s)
        b = torch.exp(codec.ent.log_b[d, l])
        bsel = torch.where(~prev_zero & (l > 0), b[:, 1].view(1, -1, 1, 1), b[:, 0].view(1, -1, 1, 1))
        p = laplace_cdf(q + 0.5, bsel) - laplace_cdf(q - 0.5, bsel)
        out.append((prev + q * s, -torch.log2(p.clamp_min(1e-12)).sum().item()))
        prev_zero = prev_zero & (q == 0)
        prev = prev + q * s
    return out


def tensor(y, u, v):
    f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)[None, None]  # noqa: E731
    return pack6(f(y), f(u), f(v))


def q8(x):
    return torch.round(x.clamp(0, 1) * 255) / 255


def psnr3(xhat, x):
    se = (q8(xhat) - x) ** 2
    my, mu, mv = se[:, :4].mean().item(), se[:, 4].mean().item(), se[:, 5].mean().item()
    p = lambda m: 10 * math.log10(1 / max(m, 1e-12))  # noqa: E731
    return p(my), p(mu), p(mv)


def psnrs(xhat, x):
    py, pu, pv = psnr3(xhat, x)
    return py, (6 * py + pu + pv) / 8


def rd_cost(xhat, x, bits, npix):
    """J = R + lambda_K * D: bits per luma pixel plus the training loss's distortion term."""
    se = (q8(xhat) - x) ** 2
    d = (6 * se[:, :4].mean() + se[:, 4].mean() + se[:, 5].mean()).item() / 8 * 255.0 ** 2
    return bits / npix + LAMBDAS[-1] * d


@torch.no_grad()
def evaluate(icodec, pcodec, clip, nframes, modes=True, frames=None, log=None):
    if frames is None:
        c = Y4M(clip)
        n = min(nframes, c.frames)
        n = 1 + 8 * ((n - 1) // 8)
        frames = [motion.pad16(*c.frame(i)) for i in range(n)]
        npix = c.width * c.height
    else:
        n = len(frames)
        npix = frames[0][0].size
    H, W = frames[0][0].shape
    tot_bits = np.zeros(LAYERS)
    tot_py = np.zeros(LAYERS)
    tot_pyuv = np.zeros(LAYERS)
    count = 0
    recon = {}  # (frame index, k) -> packed tensor
    by, bx = np.meshgrid(np.arange(0, H, 16), np.arange(0, W, 16), indexing="ij")

    intra_chosen = []

    def intra(i):
        x = tensor(*frames[i])
        q = bits_of(icodec, icodec.enc(x, 0), 0)
        return {k: q8(icodec.dec(q[k - 1][0], k, 0)) for k in range(1, LAYERS + 1)}, [b for _, b in q]

    def code_intra(i):
        rec, bits = intra(i)
        for k, r in rec.items():
            recon[(i, k)] = r
        account(i, tensor(*frames[i]), bits, "I")

    def account(i, x, layer_bits, mode):
        nonlocal count
        cum = np.cumsum(layer_bits)
        for k in range(1, LAYERS + 1):
            tot_bits[k - 1] += cum[k - 1]
            py, pyuv = psnrs(recon[(i, k)], x)
            tot_py[k - 1] += py
            tot_pyuv[k - 1] += pyuv
            if log is not None:
                log.append((i, k, mode, cum[k - 1] / npix) + psnr3(recon[(i, k)], x))
        count += 1

    for g in range(0, n - 1, 8):
        if g == 0:
            code_intra(0)
        code_intra(g + 8)
        for f, r, d in TREE:
            i, ri = g + f, g + r
            x = tensor(*frames[i])
            mv = motion.search(frames[i][0], frames[ri][0], by.ravel(), bx.ravel())
            mv = torch.from_numpy(mv.reshape(1, by.shape[0], by.shape[1], 2).astype(np.int64))
            preds = {}
            for k in range(1, LAYERS + 1):
                ry, ru, rv = unpack6(recon[(ri, k)])
                preds[k] = q8(pack6(*obmc(ry, ru, rv, mv)))
            y = pcodec.enc(x, d, preds[LAYERS])
            q = bits_of(pcodec, y, d)
            rec = {k: q8(pcodec.dec(q[k - 1][0], k, d, preds[k])) for k in range(1, LAYERS + 1)}
            bits, mode = [b for _, b in q], "P"
            if modes:
                irec, ibits = intra(i)
                # vectors are not counted in either mode yet; intra needs none
                if rd_cost(irec[LAYERS], x, sum(ibits), npix) < rd_cost(rec[LAYERS], x, sum(bits), npix):
                    rec, bits, mode = irec, ibits, "I"
                    intra_chosen.append(i)
            for k in range(1, LAYERS + 1):
                recon[(i, k)] = rec[k]
            account(i, x, bits, mode)
    return tot_bits / count / npix, tot_py / count, tot_pyuv / count, count, intra_chosen


def splice(icodec, pcodec, a, b, cut, n, modes):
    """The scene-cut test: A's frames 0..cut-1, then B's; both clips must share a size."""
    ca, cb = Y4M(a), Y4M(b)
    if (ca.width, ca.height) != (cb.width, cb.height):
        raise SystemExit(f"--splice: {a} is {ca.width}x{ca.height}, {b} is {cb.width}x{cb.height}")
    frames = [motion.pad16(*ca.frame(i)) for i in range(cut)] + [motion.pad16(*cb.frame(i)) for i in range(n - cut)]
    log = []
    *_, chosen = evaluate(icodec, pcodec, None, n, modes, frames, log)
    print(f"splice {os.path.basename(a)} -> {os.path.basename(b)} at frame {cut} of {n}; intra chosen for tree frames {chosen}")
    ok = True
    for k in range(1, LAYERS + 1):
        rows = sorted(r for r in log if r[1] == k)
        after = [r for r in rows if r[0] >= cut]
        med = [float(np.median([r[4 + c] for r in after])) for c in range(3)]
        worst = [min(r[4 + c] for r in after) for c in range(3)]
        bad = [c for c in range(3) if worst[c] < med[c] - 3]
        ok &= not bad
        print(f"k={k}: after the cut median Y/U/V {med[0]:.2f}/{med[1]:.2f}/{med[2]:.2f} dB, worst "
              f"{worst[0]:.2f}/{worst[1]:.2f}/{worst[2]:.2f} dB -> {'FAIL ' + 'YUV'[bad[0]] if bad else 'ok'}")
        print("   " + " ".join(f"{r[0]}{r[2]}:{r[4]:.1f}/{r[5]:.1f}/{r[6]:.1f}" for r in rows))
    print("scene-cut test:", "pass" if ok else "FAIL")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="build/train2/ckpt.pt")
    ap.add_argument("--clips", default="/tmp/strata-media/test/*.y4m")
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-modes", action="store_true", help="code every tree frame as a P-frame (no intra/inter decision)")
    ap.add_argument("--splice", default="", help="A.y4m,B.y4m,CUT: the scene-cut test instead of the clips")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    st = torch.load(args.ckpt, map_location="cpu")
    mode = st.get("layers_mode", "refine")
    icodec, pcodec = Codec(False, mode), Codec(True, mode)
    icodec.load_state_dict(st["i"])
    pcodec.load_state_dict(st["p"])
    icodec.eval()
    pcodec.eval()
    print(f"checkpoint step {st['step']} ({st['elapsed'] / 60:.1f} min of training)")
    if args.splice:
        a, b, cut = args.splice.split(",")
        n = 1 + 8 * ((args.frames - 1) // 8)
        splice(icodec, pcodec, a, b, int(cut), n, not args.no_modes)
        return
    for clip in sorted(glob.glob(args.clips)):
        bpp, py, pyuv, n, chosen = evaluate(icodec, pcodec, clip, args.frames, not args.no_modes)
        print(f"{os.path.basename(clip)} ({n} frames, intra chosen for {chosen or 'none'}): " + "; ".join(
            f"k={k + 1} {bpp[k]:.4f} bpp {py[k]:.2f} dB Y {pyuv[k]:.2f} dB YUV" for k in range(LAYERS)))


if __name__ == "__main__":
    main()
