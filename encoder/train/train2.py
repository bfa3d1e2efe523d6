"""Trains codec v2 (codec2.py): I- and P-frame codecs on R + lambda_k * D, P-frames on decoded
references along LFR chains, several steps deep.

    /usr/bin/python3 encoder/train/train2.py --work build/train2 [--device cuda] [--minutes M]

Each step: a batch of 9-frame windows; the anchor is intra-coded, then one chain of P-frames
(distances 8,4,2,1 / 4,2,1 / 2,1), each referencing the previous step's decoded frame. The
encoder codes every frame once from the top-level chain (as the Go encoder does); the decoder
runs the top level K and one more level k < K sampled per step, each on its own decoded
chain (what a player receiving k layers has). Loss per frame:

    sum_k (R_{<=k} + lambda_k * D_k)   with D = (6 MSE_Y + MSE_U + MSE_V) / 8 in 8-bit units^2,

R in bits per luma pixel; the sum over k < K is estimated from the one sampled level.
Decoded references are rounded to 8 bits (straight-through) and not differentiated through.

Progress: stdout and WORK/train.log; WORK/ckpt.pt every 5 minutes and at the end; a rerun with
the same WORK resumes (the schedule is over --steps of the whole run).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec2  # noqa: E402
import data2  # noqa: E402
from codec2 import LAYERS, Codec, pack6, unpack6, obmc  # noqa: E402

# lambda per layer (R in bits/luma px + lambda * MSE in 8-bit units^2)
LAMBDAS = (0.0040, 0.0100, 0.0250, 0.0625)


def yuv_dist(xhat, x):
    """Per-sample (6 MSE_Y + MSE_U + MSE_V)/8 and the three MSEs, [0,1] units."""
    se = (xhat - x) ** 2
    my = se[:, :4].mean(dim=(1, 2, 3))
    mu = se[:, 4].mean(dim=(1, 2))
    mv = se[:, 5].mean(dim=(1, 2))
    return (6 * my + mu + mv) / 8, my, mu, mv


def round8(x):
    """Clamp to [0,1] and round to 8 bits, as a decoded frame is stored."""
    x = x.clamp(0, 1)
    return x + (torch.round(x * 255) / 255 - x).detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--y4m-dir", default="/tmp/strata-media/train")
    ap.add_argument("--work", default="build/train2")
    ap.add_argument("--steps", type=int, default=40000, help="total steps of the whole run")
    ap.add_argument("--minutes", type=float, default=1e9, help="stop this sitting after this long")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--pool", type=int, default=2000, help="9-frame windows in the pool")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--layers-mode", default="refine", choices=["refine", "groups"],
                    help="refinement layers of one latent, or channel groups (the comparison of docs/MODEL.md)")
    ap.add_argument("--intra-lambda", type=float, default=1.0,
                    help="multiplies every lambda_k for intra frames (anchors serve a whole sub-GOP: x264's ipratio idea)")
    ap.add_argument("--init", default="", help="start a new run from these weights (a --snapshot file)")
    ap.add_argument("--snapshot", default="", help="write WORK/ckpt.pt's weights (fp16, no optimizer) here and exit")
    args = ap.parse_args()
    if args.snapshot:
        st = torch.load(os.path.join(args.work, "ckpt.pt"), map_location="cpu")
        half = lambda sd: {k: v.half() for k, v in sd.items()}  # noqa: E731
        torch.save({"i": half(st["i"]), "p": half(st["p"]), "step": st["step"], "elapsed": st["elapsed"],
                    "lambdas": st.get("lambdas"), "layers": st.get("layers"), "latent": st.get("latent")}, args.snapshot)
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

    pool = data2.load_or_build(os.path.join(args.work, f"pool-{args.pool}-{args.crop}.npz"),
                               args.y4m_dir, args.pool, args.crop, args.seed, log)
    icodec, pcodec = Codec(False, args.layers_mode).to(dev), Codec(True, args.layers_mode).to(dev)
    log(f"decoder MACs/luma px: I {icodec.dec.macs_per_luma_pixel():.0f}, "
        f"P {pcodec.dec.macs_per_luma_pixel():.0f}; params I {sum(p.numel() for p in icodec.dec.parameters())}, "
        f"P {sum(p.numel() for p in pcodec.dec.parameters())}")
    params = list(icodec.parameters()) + list(pcodec.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    step, elapsed = 0, 0.0
    ckpt = os.path.join(args.work, "ckpt.pt")
    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        icodec.load_state_dict(st["i"])
        pcodec.load_state_dict(st["p"])
        opt.load_state_dict(st["opt"])
        step, elapsed = st["step"], st["elapsed"]
        log(f"resumed at step {step} ({elapsed / 60:.1f} min trained)")
    elif args.init:
        st = torch.load(args.init, map_location=dev)
        icodec.load_state_dict({k: v.float() for k, v in st["i"].items()})
        pcodec.load_state_dict({k: v.float() for k, v in st["p"].items()})
        step, elapsed = st["step"], st["elapsed"]
        log(f"initialised from {args.init}: step {step} ({elapsed / 60:.1f} min trained), fresh optimizer")
    rng = np.random.default_rng(args.seed + step)

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"i": icodec.state_dict(), "p": pcodec.state_dict(), "opt": opt.state_dict(),
                    "step": step, "elapsed": elapsed, "args": vars(args),
                    "lambdas": LAMBDAS, "layers": LAYERS, "latent": codec2.LATENT,
                    "layers_mode": args.layers_mode, "intra_lambda": args.intra_lambda}, tmp)
        os.replace(tmp, ckpt)

    n = len(pool["y"])
    npix = args.crop * args.crop
    lam = torch.tensor(LAMBDAS, device=dev) * 255.0 ** 2
    # running stats: [kind I/P][layer] bpp and psnr-yuv (top chain and sampled)
    run = {}

    def track(key, v):
        run[key] = 0.98 * run.get(key, v) + 0.02 * v

    start = time.time()
    last_save = start
    icodec.train()
    pcodec.train()
    while step < args.steps and (time.time() - start) < args.minutes * 60:
        frac = step / args.steps
        lr = args.lr * min(1.0, (step + 1) / 500) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.9 + 0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.time()
        idx = rng.integers(n, size=args.batch)
        f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1).to(dev)  # noqa: E731
        Yw, Uw, Vw = pool["y"][idx], pool["u"][idx], pool["v"][idx]
        if rng.random() < 0.5:  # horizontal flip of whole windows: vectors flip with them
            Yw, Uw, Vw = Yw[..., ::-1], Uw[..., ::-1], Vw[..., ::-1]
            mvs = pool["mv"][idx][:, :, :, ::-1].copy()
            mvs[..., 1] = -mvs[..., 1]
        else:
            mvs = pool["mv"][idx]
        frames = [pack6(f(np.ascontiguousarray(Yw[:, j])), f(np.ascontiguousarray(Uw[:, j])),
                        f(np.ascontiguousarray(Vw[:, j]))) for j in range(9)]
        mvs = torch.from_numpy(np.ascontiguousarray(mvs)).to(dev)
        chain_pairs, chain_d = data2.CHAINS[rng.integers(len(data2.CHAINS))]
        ks = int(rng.integers(1, LAYERS))           # the sampled lower level
        loss = 0.0
        nfr = 0

        def code(codec, x, d, preds):
            """Encodes x once from the top prediction; decodes at levels K and ks."""
            y = codec.enc(x, d, preds[LAYERS] if codec.inter else None)
            q = codec.ent.quantize(y, d, True)
            bits = torch.stack([b for _, b in q], 1) / npix          # (B, LAYERS) bpp per layer
            out = {}
            for k in (LAYERS, ks):
                out[k] = codec.dec(q[k - 1][0], k, d, preds[k] if codec.inter else None)
            return bits, out

        x0 = frames[0]
        bits, out = code(icodec, x0, 0, None)
        recon = {k: round8(v).detach() for k, v in out.items()}
        terms = [("I", x0, bits, out)]
        cur_frame = 0
        for pi, d in zip(chain_pairs, chain_d):
            cur, ref = data2.PAIRS[pi]
            assert ref == cur_frame
            x = frames[cur]
            preds = {}
            for k, r in recon.items():
                ry, ru, rv = unpack6(r)
                py, pu, pv = obmc(ry, ru, rv, mvs[:, pi])
                preds[k] = pack6(py, pu, pv)
            bits, out = code(pcodec, x, int(d), preds)
            recon = {k: round8(v).detach() for k, v in out.items()}
            terms.append(("P", x, bits, out))
            cur_frame = cur
        for kind, x, bits, out in terms:
            rate_w = torch.arange(LAYERS, 0, -1, device=dev, dtype=torch.float32)  # K-l+1
            r = (bits * rate_w).sum(1).mean()
            dK, myK, _, _ = yuv_dist(out[LAYERS], x)
            dk, _, _, _ = yuv_dist(out[ks], x)
            w = args.intra_lambda if kind == "I" else 1.0
            loss = loss + r + w * (lam[LAYERS - 1] * dK.mean() + (LAYERS - 1) * lam[ks - 1] * dk.mean())
            nfr += 1
            bl = bits.mean(0).detach().cpu().numpy()
            cum = np.cumsum(bl)
            track(kind + "bppK", cum[-1])
            track(kind + f"bpp{ks}", cum[ks - 1])
            track(kind + "mseK", dK.mean().item())
            track(kind + f"mse{ks}", dk.mean().item())
        loss = loss / nfr
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        step += 1
        elapsed += time.time() - t0
        if step % 50 == 0:
            parts = []
            for kind in "IP":
                s = []
                for k in range(1, LAYERS + 1):
                    kk = "K" if k == LAYERS else str(k)
                    if kind + "bpp" + kk in run:
                        s.append(f"k{k} {run[kind + 'bpp' + kk]:.3f}bpp {codec2.psnr(run[kind + 'mse' + kk]):.2f}dB")
                parts.append(kind + ": " + ", ".join(s))
            log(f"step {step}/{args.steps} lr {lr:.2e} {elapsed / step:.2f} s/step loss {loss.item():.4f} | "
                + " | ".join(parts))
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    log(f"stopped at step {step}, {elapsed / 60:.1f} min of training in all")


if __name__ == "__main__":
    main()
