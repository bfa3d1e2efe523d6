"""Evaluates a codec v2 checkpoint on whole frames of the test clips.

    /usr/bin/python3 encoder/train/evaluate2.py --ckpt build/train2/ckpt.pt [--frames 17]

For each clip: sub-GOPs of 8 (anchors intra, the LFR tree inside: 4<-0, 2<-0, 6<-4, 1<-0,
3<-2, 5<-4, 7<-6), vectors searched on the original frames (motion.py, as the Go encoder),
OBMC prediction from the decoded reference at the same k (what a player with k layers
has), the latent coded once from the top-level chain. Rate = the entropy model's ideal code
length of the rounded symbols (what the range coder will spend within a fraction of a
percent; motion vectors not counted yet). Prints bpp, PSNR-Y and PSNR-YUV (6:1:1) per k.
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


def psnrs(xhat, x):
    se = (q8(xhat) - x) ** 2
    my, mu, mv = se[:, :4].mean().item(), se[:, 4].mean().item(), se[:, 5].mean().item()
    p = lambda m: 10 * math.log10(1 / max(m, 1e-12))  # noqa: E731
    return p(my), (6 * p(my) + p(mu) + p(mv)) / 8


@torch.no_grad()
def evaluate(icodec, pcodec, clip, nframes):
    c = Y4M(clip)
    n = min(nframes, c.frames)
    n = 1 + 8 * ((n - 1) // 8)
    frames = [motion.pad16(*c.frame(i)) for i in range(n)]
    H, W = frames[0][0].shape
    npix = c.width * c.height
    tot_bits = np.zeros(LAYERS)
    tot_py = np.zeros(LAYERS)
    tot_pyuv = np.zeros(LAYERS)
    count = 0
    recon = {}  # (frame index, k) -> packed tensor
    by, bx = np.meshgrid(np.arange(0, H, 16), np.arange(0, W, 16), indexing="ij")

    def code_intra(i):
        x = tensor(*frames[i])
        q = bits_of(icodec, icodec.enc(x, 0), 0)
        for k in range(1, LAYERS + 1):
            recon[(i, k)] = q8(icodec.dec(q[k - 1][0], k, 0))
        account(i, x, [b for _, b in q])

    def account(i, x, layer_bits):
        nonlocal count
        cum = np.cumsum(layer_bits)
        for k in range(1, LAYERS + 1):
            tot_bits[k - 1] += cum[k - 1]
            py, pyuv = psnrs(recon[(i, k)], x)
            tot_py[k - 1] += py
            tot_pyuv[k - 1] += pyuv
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
            for k in range(1, LAYERS + 1):
                recon[(i, k)] = q8(pcodec.dec(q[k - 1][0], k, d, preds[k]))
            account(i, x, [b for _, b in q])
    return tot_bits / count / npix, tot_py / count, tot_pyuv / count, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="build/train2/ckpt.pt")
    ap.add_argument("--clips", default="/tmp/strata-media/test/*.y4m")
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--threads", type=int, default=1)
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
    for clip in sorted(glob.glob(args.clips)):
        bpp, py, pyuv, n = evaluate(icodec, pcodec, clip, args.frames)
        print(f"{os.path.basename(clip)} ({n} frames): " + "; ".join(
            f"k={k + 1} {bpp[k]:.4f} bpp {py[k]:.2f} dB Y {pyuv[k]:.2f} dB YUV" for k in range(LAYERS)))


if __name__ == "__main__":
    main()
