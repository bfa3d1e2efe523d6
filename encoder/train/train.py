"""Trains the codec (codec.py): I- and P-frame codecs on R + lambda_k * D for every
layer count k, P-frames on decoded references along the LFR chains of data.py, several steps
deep, every level on its own decoded chain (what a player holding k layers has).

    /usr/bin/python3 encoder/train/train.py --work build/train [--device cuda] [--minutes M]

Each step: a batch of 9-frame windows; the anchor is intra-coded, then one chain of P-frames
(distances 8,4,2,1 / 4,2,1 / 2,1). The encoder codes every frame once, from the top level's
prediction (as the Go encoder does); the decoder runs every level k = 1..K on its own chain.
Loss per frame: sum_k (R_{<=k} + w * lambda_k * D_k), D = (6 MSE_Y + MSE_U + MSE_V) / 8 in
8-bit units^2, R in bits per luma pixel, w = --intra-lambda for intra frames, else 1.
Decoded references are rounded to 8 bits and not differentiated through.

Progress: stdout and WORK/train.log; WORK/ckpt.pt every 5 minutes and at the end; a rerun with
the same WORK resumes (the learning-rate schedule spans --steps of the whole run).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import codec  # noqa: E402
from obmc import obmc, obmc_bi  # noqa: E402
from codec import LAYERS, Codec  # noqa: E402

# lambda per layer (R in bits/luma px + lambda * D in 8-bit units^2): a 4x ladder, so the base
# layer is a streaming base (tens of kbit/s per 100k pixels at 20 frames/s) and the top layer
# reaches x264's high-quality range.
LAMBDAS = (0.0010, 0.0040, 0.0160, 0.0625)


def yuv_dist(out, ref):
    """Per-sample (6 MSE_Y + MSE_U + MSE_V)/8 and MSE_Y, [0,1] units."""
    ms = [((a - b) ** 2).mean(dim=(1, 2, 3)) for a, b in zip(out, ref)]
    return (6 * ms[0] + ms[1] + ms[2]) / 8, ms[0]


def round8(planes):
    return tuple(torch.round(p.clamp(0, 1) * 255).detach() / 255 for p in planes)


def psnr(mse):
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--y4m-dir", default="/tmp/strata-media/train")
    ap.add_argument("--work", default="build/train")
    ap.add_argument("--pool-dir", default="", help="where the pool npz lives (default: WORK)")
    ap.add_argument("--steps", type=int, default=60000, help="total steps of the whole run")
    ap.add_argument("--minutes", type=float, default=1e9, help="stop this sitting after this long")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--pool", type=int, default=2000, help="9-frame windows in the pool")
    ap.add_argument("--lr", type=float, default=5e-4, help="1e-3 diverged twice near step 2,000 (P-frames collapsed to 24 dB)")
    ap.add_argument("--ent-lr-mult", type=float, default=3.0, help="learning-rate multiplier of the entropy model's parameters")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--intra-lambda", type=float, default=2.0,
                    help="multiplies every lambda_k for intra frames (an anchor serves a whole sub-GOP)")
    ap.add_argument("--bi-share", type=float, default=0.7,
                    help="share of steps on a B-chain (intra anchors 0 and 8, frames 4, 2, 1 bi-predicted); the rest on P-chains")
    ap.add_argument("--s4-share", type=float, default=0.0,
                    help="share of B-chains on stride-4 windows (distances 16, 8, 4: the sub-GOP of 32; classes 3, 3, 2)")
    ap.add_argument("--s2-share", type=float, default=0.3,
                    help="share of B-chains on stride-2 windows (distances 8, 4, 2: a sub-GOP of 16)")
    ap.add_argument("--init", default="", help="start a new run from these weights (a --snapshot file)")
    ap.add_argument("--snapshot", default="", help="write WORK/ckpt.pt's weights (fp16, no optimizer) here and exit")
    args = ap.parse_args()
    ckpt = os.path.join(args.work, "ckpt.pt")
    if args.snapshot:
        st = torch.load(ckpt, map_location="cpu")
        half = lambda sd: {k: v.half() for k, v in sd.items()}  # noqa: E731
        snap = {k: st.get(k) for k in ("step", "elapsed", "lambdas", "intra_lambda")}
        snap.update(i=half(st["i"]), p=half(st["p"]))
        torch.save(snap, args.snapshot)
        print(f"{args.snapshot}: weights of step {st['step']} ({st['elapsed'] / 60:.1f} min of training)")
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    os.makedirs(args.work, exist_ok=True)
    logf = open(os.path.join(args.work, "train.log"), "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    pool = data.load_or_build(os.path.join(args.pool_dir or args.work, f"pool-{args.pool}-{args.crop}.npz"),
                               args.y4m_dir, args.pool, args.crop, args.seed, log)
    poolb = data.load_or_build_bi(os.path.join(args.pool_dir or args.work, f"poolb-{args.pool}-{args.crop}.npz"), pool, log)
    def strided(stride, share, seed):
        # A pool of half as many windows `stride` frames apart and its B add-on, when used.
        if share <= 0:
            return None, None
        pd, n = args.pool_dir or args.work, args.pool // 2
        p = data.load_or_build(os.path.join(pd, f"pool-{n}-{args.crop}-s{stride}.npz"), args.y4m_dir,
                                n, args.crop, seed, log, stride=stride)
        return p, data.load_or_build_bi(os.path.join(pd, f"poolb-{n}-{args.crop}-s{stride}.npz"), p, log)

    pool2, poolb2 = strided(2, args.s2_share, args.seed + 1)
    pool4, poolb4 = strided(4, args.s4_share, args.seed + 2)
    icodec, pcodec = Codec(False).to(dev), Codec(True).to(dev)
    log(f"decoder MACs/luma px: I {icodec.macs_per_luma_pixel():.0f}, P {pcodec.macs_per_luma_pixel():.0f}")
    named = list(icodec.named_parameters()) + list(pcodec.named_parameters())
    ent = [p for n, p in named if n.startswith("ent.")]
    rest = [p for n, p in named if not n.startswith("ent.")]
    opt = torch.optim.Adam([{"params": rest, "mul": 1.0}, {"params": ent, "mul": args.ent_lr_mult}], lr=args.lr)
    step, elapsed, warm0 = 0, 0.0, 0
    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        icodec.load_state_dict(st["i"])
        pcodec.load_state_dict(st["p"])
        opt.load_state_dict(st["opt"])
        step, elapsed, warm0 = st["step"], st["elapsed"], st.get("warm0", 0)
        log(f"resumed at step {step} ({elapsed / 60:.1f} min trained)")
    elif args.init:
        st = torch.load(args.init, map_location=dev)
        for net, tag in ((icodec, "i"), (pcodec, "p")):
            missing, unexpected = net.load_state_dict({k: v.float() for k, v in st[tag].items()}, strict=False)
            if missing or unexpected:
                log(f"--init {tag}: new parameters {missing} (kept at their initial values), dropped {unexpected}")
        step, elapsed = st["step"], st["elapsed"]
        warm0 = step  # a fresh optimizer warms up again
        log(f"initialised from {args.init}: step {step} ({elapsed / 60:.1f} min trained), fresh optimizer")
    rng = np.random.default_rng(args.seed + step)

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"i": icodec.state_dict(), "p": pcodec.state_dict(), "opt": opt.state_dict(),
                    "step": step, "elapsed": elapsed, "args": vars(args),
                    "lambdas": LAMBDAS, "intra_lambda": args.intra_lambda, "warm0": warm0}, tmp)
        os.replace(tmp, ckpt)

    npix = args.crop * args.crop
    lam = torch.tensor(LAMBDAS, device=dev) * 255.0 ** 2
    run = {}

    def track(key, v):
        run[key] = 0.98 * run.get(key, v) + 0.02 * v

    start = time.time()
    last_save = start
    while step < args.steps and (time.time() - start) < args.minutes * 60:
        frac = step / args.steps
        lr = args.lr * min(1.0, (step - warm0 + 1) / 500) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05)
        for g in opt.param_groups:
            g["lr"] = lr * g["mul"]
        t0 = time.time()
        bi = rng.random() < args.bi_share
        src, addon, shift = pool, poolb, 0
        u = rng.random()
        if bi and pool4 is not None and u < args.s4_share:
            src, addon, shift = pool4, poolb4, 2   # stride-4 windows: distances 16, 8, 4
        elif bi and pool2 is not None and u < args.s4_share + args.s2_share:
            src, addon, shift = pool2, poolb2, 1   # stride-2 windows: distances 8, 4, 2
        idx = rng.integers(len(src["y"]), size=args.batch)
        f = lambda a: torch.from_numpy(np.ascontiguousarray(a).astype(np.float32) / 255.0).unsqueeze(1).to(dev)  # noqa: E731
        Yw, Uw, Vw = src["y"][idx], src["u"][idx], src["v"][idx]
        if rng.random() < 0.5:  # horizontal flip of whole windows: vectors flip with them
            Yw, Uw, Vw = Yw[..., ::-1], Uw[..., ::-1], Vw[..., ::-1]
            mvs = src["mv"][idx][:, :, :, ::-1].copy()
            mvs[..., 1] = -mvs[..., 1]
            mv10 = addon["mv10"][idx][:, :, ::-1].copy()
            mv10[..., 1] = -mv10[..., 1]
            bmodes = addon["modes"][idx][..., ::-1]
        else:
            mvs, mv10, bmodes = src["mv"][idx], addon["mv10"][idx], addon["modes"][idx]
        mvs = np.concatenate([mvs, mv10[:, None]], axis=1)   # pair 6 = (1, 0)
        bmodes = torch.from_numpy(np.ascontiguousarray(bmodes).astype(np.int64)).to(dev)
        frames = [(f(Yw[:, j]), f(Uw[:, j]), f(Vw[:, j])) for j in range(9)]
        mvs = torch.from_numpy(np.ascontiguousarray(mvs)).to(dev)
        loss = 0.0
        nfr = 0
        terms = []

        def intra(x):
            q = icodec.encode(*x, training=True)
            outs = [icodec.decode(q[k - 1][0], k, 0) for k in range(1, LAYERS + 1)]
            terms.append(("I", x, q, outs))
            return [round8(o) for o in outs]

        def inter(x, preds, d, kind):
            q = pcodec.encode(*x, pred=preds[-1], training=True)
            outs = [pcodec.decode(q[k - 1][0], k, int(d), preds[k - 1]) for k in range(1, LAYERS + 1)]
            terms.append((kind, x, q, outs))
            return [round8(o) for o in outs]

        if bi:
            # B-chain: every chain k keeps its decoded frames; each B-frame predicts from its
            # two decoded neighbours at the same k.
            dec = {0: intra(frames[0]), 8: intra(frames[8])}
            for j, (cur, past, fut, fp, bp, d) in enumerate(data.BCHAIN):
                preds = [tuple(obmc_bi(dec[past][k], dec[fut][k], mvs[:, fp], mvs[:, bp], bmodes[:, j]))
                         for k in range(LAYERS)]
                dec[cur] = inter(frames[cur], preds, min(d + shift, 3), "B")
        else:
            chain_pairs, chain_d = data.CHAINS[rng.integers(len(data.CHAINS))]
            recon = intra(frames[0])
            cur_frame = 0
            for pi, d in zip(chain_pairs, chain_d):
                cur, ref = data.PAIRS[pi]
                assert ref == cur_frame
                preds = [tuple(obmc(*r, mvs[:, pi])) for r in recon]
                recon = inter(frames[cur], preds, d, "P")
                cur_frame = cur
        for kind, x, q, outs in terms:
            w = args.intra_lambda if kind == "I" else 1.0
            bits = torch.stack([b for _, b in q], 1) / npix               # (B, K) bpp per layer
            cum = torch.cumsum(bits, 1)
            for k in range(1, LAYERS + 1):
                dk, myk = yuv_dist(outs[k - 1], x)
                loss = loss + cum[:, k - 1].mean() + w * lam[k - 1] * dk.mean()
                track(f"{kind}bpp{k}", cum[:, k - 1].mean().item())
                track(f"{kind}mse{k}", myk.mean().item())
            nfr += 1
        loss = loss / nfr
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(rest + ent, 5.0)
        opt.step()
        step += 1
        elapsed += time.time() - t0
        if step % 50 == 0:
            parts = []
            for kind in "IPB":
                if f"{kind}bpp1" not in run:
                    continue
                parts.append(kind + ": " + ", ".join(
                    f"k{k} {run[f'{kind}bpp{k}']:.3f}bpp {psnr(run[f'{kind}mse{k}']):.2f}dB" for k in range(1, LAYERS + 1)))
            log(f"step {step}/{args.steps} lr {lr:.2e} {elapsed / step:.2f} s/step loss {loss.item():.4f} | "
                + " | ".join(parts))
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    log(f"stopped at step {step}, {elapsed / 60:.1f} min of training in all")


if __name__ == "__main__":
    main()
