"""Trains the I-frame and P-frame layered codecs (one process, one torch thread).

    /usr/bin/python3 encoder/train/train.py --steps 6000 --work build/train

Progress goes to stdout and WORK/train.log; a checkpoint is written to WORK/ckpt.pt every
few minutes and at the end, and a rerun with the same WORK resumes from it, so a run can be
split across sittings (--minutes bounds one sitting).
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
import data  # noqa: E402
from model import Codec, pack6  # noqa: E402

I_BITS, I_LAYERS = 32, 6
P_BITS, P_LAYERS = 8, 8


def to_tensor(y, u, v):
    f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # noqa: E731
    return pack6(f(y), f(u), f(v))


def batch(pool, prefix, idx, rng):
    """Crops idx of the pool as packed tensors, with random flips."""
    arrs = [pool[prefix + c][idx] for c in "yuv"]
    if prefix == "p":
        arrs += [pool["q" + c][idx] for c in "yuv"]
    if rng.random() < 0.5:
        arrs = [a[:, :, ::-1] for a in arrs]
    if rng.random() < 0.5:
        arrs = [a[:, ::-1, :] for a in arrs]
    arrs = [np.ascontiguousarray(a) for a in arrs]
    x = to_tensor(*arrs[:3])
    pred = to_tensor(*arrs[3:]) if prefix == "p" else torch.full_like(x, 0.5)
    return x, pred


def psnr(mse):
    return 10 * math.log10(1.0 / max(mse, 1e-10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--y4m-dir", default="/tmp/strata-media/train")
    ap.add_argument("--work", default="build/train")
    ap.add_argument("--steps", type=int, default=6000, help="total steps of the whole run")
    ap.add_argument("--minutes", type=float, default=1e9, help="stop this sitting after this long")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--pool-i", type=int, default=3000)
    ap.add_argument("--pool-p", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    logf = open(os.path.join(args.work, "train.log"), "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    pool = data.load_or_build(os.path.join(args.work, "pool.npz"), args.y4m_dir,
                              args.pool_i, args.pool_p, args.crop, args.seed, log)
    icodec, pcodec = Codec(I_BITS, I_LAYERS), Codec(P_BITS, P_LAYERS)
    params = list(icodec.parameters()) + list(pcodec.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    step, elapsed = 0, 0.0
    ckpt = os.path.join(args.work, "ckpt.pt")
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        icodec.load_state_dict(st["i"])
        pcodec.load_state_dict(st["p"])
        opt.load_state_dict(st["opt"])
        step, elapsed = st["step"], st["elapsed"]
        log(f"resumed at step {step} ({elapsed / 60:.1f} min trained)")
    rng = np.random.default_rng(args.seed + step)

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"i": icodec.state_dict(), "p": pcodec.state_dict(), "opt": opt.state_dict(),
                    "step": step, "elapsed": elapsed, "args": vars(args)}, tmp)
        os.replace(tmp, ckpt)

    start = time.time()
    last_save = start
    ni, np_ = len(pool["iy"]), len(pool["py"])
    run_i = np.zeros(I_LAYERS)
    run_p = np.zeros(P_LAYERS)
    icodec.train()
    pcodec.train()
    while step < args.steps and (time.time() - start) < args.minutes * 60:
        frac = step / args.steps
        lr = args.lr * (0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05)
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.time()
        x, pred = batch(pool, "i", rng.integers(ni, size=args.batch), rng)
        outs_i = icodec(x, pred, 0)
        mse_i = [F.mse_loss(o, x) for o in outs_i]
        idx = rng.integers(np_, size=args.batch)
        # One distance class per batch: the level embedding is indexed by it.
        d = int(pool["dcls"][idx[0]])
        same = np.nonzero(pool["dcls"] == d)[0]
        idx = same[rng.integers(len(same), size=args.batch)]
        x, pred = batch(pool, "p", idx, rng)
        outs_p = pcodec(x, pred, d)
        mse_p = [F.mse_loss(o, x) for o in outs_p]
        # MSE in 8-bit units: gradients of the small P residuals stay far above Adam's epsilon.
        loss = (sum(mse_i) / I_LAYERS + sum(mse_p) / P_LAYERS) * 255.0 ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        elapsed += time.time() - t0
        run_i = 0.98 * run_i + 0.02 * np.array([m.item() for m in mse_i])
        run_p = 0.98 * run_p + 0.02 * np.array([m.item() for m in mse_p])
        if step % 50 == 0:
            corr = 1 - 0.98 ** min(step, 1000)
            pi = " ".join(f"{psnr(m / corr):.2f}" for m in run_i)
            pp = " ".join(f"{psnr(m / corr):.2f}" for m in run_p)
            log(f"step {step}/{args.steps} lr {lr:.2e} {elapsed / step:.2f} s/step | "
                f"I psnr/layer {pi} | P psnr/layer {pp}")
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    log(f"stopped at step {step}, {elapsed / 60:.1f} min of training in all")


if __name__ == "__main__":
    main()
