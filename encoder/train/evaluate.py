"""Rate and quality of the exported model per layer count on the test clips.

    /usr/bin/python3 encoder/train/evaluate.py --y4m-dir /tmp/strata-media/test --frames 24

Loads assets/model/nvc.safetensors (the committed weights). Per clip, over the first
--frames frames (padded to multiples of 16; PSNR measured on the original area):
  * I: every frame coded as an I-frame with k = 1..K_I layers.
  * P (single step): every frame t >= 1 predicted from the all-layer I-frame reconstruction
    of frame t-1 (a real decoded reference, no chain), coded with k = 1..K_P layers.
  * P (chain): GOPs of 8 frames: an I-frame with all layers, then 7 P-frames in a plain chain
    (reference distance 1) where the client with k layers predicts from its own k-layer
    reconstructions; motion is searched on the original frames (motion.py). Each k-chain
    encodes its own codes (the model's per-k capability; docs/MODEL.md).
Rates: code bits are fixed per layer (I: 32, P: 8 bits per 16x16 block); motion vectors
are counted with signed Exp-Golomb codes of their median-predicted differences (an upper
bound for the arithmetic coder of the bitstream).
"""
import argparse
import glob
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402
from model import Codec, pack6, unpack6  # noqa: E402
from y4m import Y4M  # noqa: E402


def load_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    data = b[8 + n:]
    meta = h.pop("__metadata__", {})
    out = {}
    for k, e in h.items():
        s, t = e["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[s:t], dtype="<f4").reshape(e["shape"]).copy())
    return out, meta


def load_exported(path):
    t, meta = load_safetensors(path)
    models = {}
    for tag in ("i", "p"):
        m = Codec(int(meta[tag + "_bits"]), int(meta[tag + "_layers"]))
        m.load_state_dict({k[2:]: v for k, v in t.items() if k.startswith(tag + ".")})
        m.eval()
        models[tag] = m
    return models


def to_t(y, u, v):
    f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)[None, None]  # noqa: E731
    return pack6(f(y), f(u), f(v))


def to_8(x):
    y, u, v = unpack6(x.clamp(0, 1))
    g = lambda a: (a[0, 0] * 255 + 0.5).floor().clamp(0, 255).numpy().astype(np.uint8)  # noqa: E731
    return g(y), g(u), g(v)


def psnr_y(a, b, h, w):
    d = a[:h, :w].astype(np.float64) - b[:h, :w].astype(np.float64)
    mse = (d * d).mean()
    return 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def code_chain(m, x, pred, d, k):
    """Encodes k layers against pred; returns the k-layer reconstruction."""
    B, _, h, w = x.shape
    zero = x.new_zeros(B, m.bits, h // 8, w // 8)
    codes, xhat = [], pred
    for i in range(k):
        c = torch.where(m.enc(x - xhat, pred, i, d) >= 0, 1.0, -1.0)
        codes.append(c)
        xhat = m.dec(torch.cat(codes + [zero] * (m.layers - len(codes)), 1), i + 1, d, pred)
    return xhat


def se_bits(v):
    """Signed Exp-Golomb code length of integer v."""
    u = 2 * v - 1 if v > 0 else -2 * v
    return 2 * int(math.floor(math.log2(u + 1))) + 1


def mv_bits(mvs, bw, bh):
    g = mvs.reshape(bh, bw, 2)
    bits = 0
    for y in range(bh):
        for x in range(bw):
            a = g[y, x - 1] if x > 0 else np.zeros(2, np.int64)
            b = g[y - 1, x] if y > 0 else a
            c = g[y - 1, x + 1] if (y > 0 and x + 1 < bw) else (g[y - 1, x - 1] if (y > 0 and x > 0) else b)
            pred = np.median(np.stack([a, b, c]), axis=0).astype(np.int64)
            for j in range(2):
                bits += se_bits(int(g[y, x, j] - pred[j]))
    return bits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--y4m-dir", default="/tmp/strata-media/test")
    ap.add_argument("--weights", default="assets/model/nvc.safetensors")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    torch.set_num_threads(1)
    models = load_exported(args.weights)
    mi, mp = models["i"], models["p"]
    results = {}
    with torch.no_grad():
        for path in sorted(glob.glob(os.path.join(args.y4m_dir, "*.y4m"))):
            clip = Y4M(path)
            name = os.path.basename(path)[:-4]
            n = min(args.frames, clip.frames)
            H, W = clip.height, clip.width
            frames = [motion.pad16(*clip.frame(i)) for i in range(n)]
            Hp, Wp = frames[0][0].shape
            bh, bw = Hp // 16, Wp // 16
            pix = H * W
            r = {"width": W, "height": H, "frames": n, "i_psnr": [], "p_psnr": [], "i_bpp": [], "p_bpp": [],
                 "p1_psnr": [], "p1_bpp": []}
            xs = [to_t(*f) for f in frames]
            gray = torch.full_like(xs[0], 0.5)
            # I-frames at every k.
            irec = []
            for k in range(1, mi.layers + 1):
                recs = [to_8(code_chain(mi, x, gray, 0, k)) for x in xs]
                ps = [psnr_y(rc[0], f[0], H, W) for rc, f in zip(recs, frames)]
                r["i_psnr"].append(float(np.mean(ps)))
                r["i_bpp"].append(k * mi.bits * bh * bw / pix)
                irec = recs
            # Motion on originals, once per P-frame.
            mvs, mvb = {}, 0
            bys, bxs = np.meshgrid(np.arange(0, Hp, 16), np.arange(0, Wp, 16), indexing="ij")
            for t in range(n):
                if t % 8 == 0:
                    continue
                mvs[t] = motion.search(frames[t][0], frames[t - 1][0], bys.ravel(), bxs.ravel())
                mvb += mv_bits(mvs[t], bw, bh)
            n_p = len(mvs)
            mv_bpp = mvb / max(n_p, 1) / pix
            r["mv_bpp"] = mv_bpp
            # Single P step from the all-layer I reconstruction of the previous frame.
            preds = []
            for t in range(1, n):
                mv = mvs[t] if t in mvs else motion.search(frames[t][0], frames[t - 1][0], bys.ravel(), bxs.ravel())
                pred = [np.zeros_like(p) for p in frames[t]]
                for j, (by, bx) in enumerate(zip(bys.ravel(), bxs.ravel())):
                    a, b, c = motion.compensate(irec[t - 1], by, bx, mv[j])
                    pred[0][by:by + 16, bx:bx + 16] = a
                    pred[1][by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = b
                    pred[2][by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = c
                preds.append(to_t(*pred))
            for k in range(1, mp.layers + 1):
                ps = [psnr_y(to_8(code_chain(mp, xs[t], preds[t - 1], 0, k))[0], frames[t][0], H, W) for t in range(1, n)]
                r["p1_psnr"].append(float(np.mean(ps)))
                r["p1_bpp"].append(k * mp.bits * bh * bw / pix + mv_bpp)
            for k in range(1, mp.layers + 1):
                ps = []
                for t in range(n):
                    if t % 8 == 0:
                        rec = to_8(code_chain(mi, xs[t], gray, 0, mi.layers))
                        continue
                    pred = [np.zeros_like(p) for p in frames[t]]
                    for j, (by, bx) in enumerate(zip(bys.ravel(), bxs.ravel())):
                        a, b, c = motion.compensate(rec, by, bx, mvs[t][j])
                        pred[0][by:by + 16, bx:bx + 16] = a
                        pred[1][by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = b
                        pred[2][by // 2:by // 2 + 8, bx // 2:bx // 2 + 8] = c
                    rec = to_8(code_chain(mp, xs[t], to_t(*pred), 0, k))
                    ps.append(psnr_y(rec[0], frames[t][0], H, W))
                r["p_psnr"].append(float(np.mean(ps)))
                r["p_bpp"].append(k * mp.bits * bh * bw / pix + mv_bpp)
            results[name] = r
            print(f"{name} ({W}x{H}, {n} frames)", flush=True)
            print("  I  k: " + " ".join(f"{k + 1}:{b:.3f}bpp/{p:.2f}dB" for k, (b, p) in enumerate(zip(r["i_bpp"], r["i_psnr"]))))
            print("  P1 k: " + " ".join(f"{k + 1}:{b:.3f}bpp/{p:.3f}dB" for k, (b, p) in enumerate(zip(r["p1_bpp"], r["p1_psnr"]))))
            print("  Pc k: " + " ".join(f"{k + 1}:{b:.3f}bpp/{p:.3f}dB" for k, (b, p) in enumerate(zip(r["p_bpp"], r["p_psnr"]))))
            print(f"  P  motion vectors: {mv_bpp:.4f} bpp")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
