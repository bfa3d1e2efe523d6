"""Codec-aware resampling: a learned 2x downsampler D and upsampler U trained end to end
through strata's real, quantizing codec with a surrogate gradient.

The forward pass is the real thing: every round writes D's half-resolution frames to Y4M,
codes them with `strata encode` (3 layers) and decodes them at k = 1, 2, 3 with
`strata decode`; the codec's error e_k = decoded_k - D(x) is kept. Between rounds the two
networks train on crops with the codec replaced by its measured error
(y_hat = D(x) + stop_gradient(e_k)), the straight-through surrogate: U gets exact gradients
on real decoded content, D gets the gradient of U's loss as if the codec passed a change of
its output through unchanged. A round's encode refreshes e for the new D.

D: a symmetric separable 6-tap filter at stride 2 on the luma (two free taps; exported as
   one 3x3 convolution, 4 -> 1, on the 2x2 blocks of space-to-depth), starting as the
   bicubic kernel cut to 6 taps; chroma is box-averaged. Its output may not exceed the bicubic one's total variation (a rate proxy).
U: y = up + g(up), up = bicubic x2 (a = -0.75, edges clamped), g decoder/enhance's network
   (s2d, 4 -> C -> C -> 4, depth-to-space) - exactly what the Go side runs
   (decoder/enhance: Upscale2 then Net.Apply; Down for D).

Writes OUT/down.sdwn and OUT/up.senh (decoder/enhance's binary formats) after every round,
a checkpoint OUT/resample.pt, and progress lines to stdout.

  /usr/bin/python3 encoder/train/resample.py --strata bin/strata --out build/resample \\
      --clips DIR/foreman_cif.y4m,... --rounds 10 --steps 500
"""
import argparse
import os
import struct
import subprocess
import sys
import time
import zlib
from fractions import Fraction

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from y4m import Y4M  # noqa: E402

# Bicubic (a = -0.75) taps for a 2x upsampling: even outputs sit at i - 1/4, odd at i + 1/4.
TAPS_EVEN = [-0.03515625, 0.26171875, 0.87890625, -0.10546875]  # source i-2 .. i+1
TAPS_ODD = [-0.10546875, 0.87890625, 0.26171875, -0.03515625]  # source i-1 .. i+2


def up_rows(p):
    """2x along the last axis of p (B,1,H,W) with clamped edges."""
    w = p.shape[-1]
    q = F.pad(p, (2, 2, 0, 0), mode="replicate")
    ev = sum(TAPS_EVEN[j] * q[..., j:j + w] for j in range(4))
    od = sum(TAPS_ODD[j] * q[..., j + 1:j + 1 + w] for j in range(4))
    return torch.stack([ev, od], dim=-1).reshape(*p.shape[:-1], 2 * w)


def bicubic2(p):
    """2x bicubic of p (B,1,H,W): rows first, then columns (the Go order)."""
    r = up_rows(p)
    return up_rows(r.transpose(-1, -2)).transpose(-1, -2)


def round8(x):
    """Rounds to 8-bit levels with a straight-through gradient."""
    return x + (torch.round(torch.clamp(x, 0, 1) * 255) / 255 - x).detach()


class Down(nn.Module):
    """A symmetric, separable 6-tap filter at stride 2, [a, b, c, c, b, a] with
    c = 1/2 - a - b (unit gain), in both directions; exported as one 3x3 convolution on the
    2x2 blocks (the Go side's general linear form). It starts as the bicubic kernel cut to
    6 taps. Two parameters on purpose: with the 36 free weights of a general linear filter
    (or a CNN), D learned through the surrogate to write patterns U could read back but the
    real codec did not carry: real PSNR fell 1-3 dB a round while the surrogate's rose."""

    def __init__(self):
        super().__init__()
        t = bicubic6()
        self.ab = nn.Parameter(torch.tensor([t[0], t[1]], dtype=torch.float32))

    def taps(self):
        a, b = self.ab[0], self.ab[1]
        c = 0.5 - a - b
        return torch.stack([a, b, c, c, b, a])

    def weight(self):
        t = self.taps()
        # Tap (ky, kx) of block channel c = 2 dy + dx weighs source pixel
        # (2(i + ky - 1) + dy, 2(j + kx - 1) + dx): k's offsets -2 .. 3 around (2i, 2j).
        k = torch.outer(t, t)
        rows = []
        for c in range(4):
            dy, dx = c >> 1, c & 1
            rows.append(torch.stack([torch.stack([k[2 * (ky - 1) + dy + 2, 2 * (kx - 1) + dx + 2] for kx in range(3)])
                                     for ky in range(3)]))
        return torch.stack(rows).unsqueeze(0)

    def as_conv(self):
        c = nn.Conv2d(4, 1, 3, padding=1)
        with torch.no_grad():
            c.weight.copy_(self.weight())
            c.bias.zero_()
        return c

    def forward(self, x):
        b = F.pixel_unshuffle(x, 2)
        return F.conv2d(b, self.weight(), padding=1)


def bicubic6():
    """The antialiased bicubic 2x kernel (8 taps, decoder/enhance.BicubicDown) cut to 6
    taps and renormalised: D's start and the reference of its rate constraint."""
    t8 = [-0.017578125, -0.052734375, 0.130859375, 0.439453125, 0.439453125, 0.130859375, -0.052734375, -0.017578125]
    t6 = np.array(t8[1:7]) / sum(t8[1:7])
    return t6


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(4, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)
        self.c3 = nn.Conv2d(c, 4, 3, padding=1)
        for l in (self.c1, self.c2):
            nn.init.kaiming_normal_(l.weight, nonlinearity="relu")
            nn.init.zeros_(l.bias)
        nn.init.zeros_(self.c3.weight)
        nn.init.zeros_(self.c3.bias)

    def forward(self, y):
        up = round8(bicubic2(y))
        b = F.pixel_unshuffle(up, 2)
        r = self.c3(F.relu(self.c2(F.relu(self.c1(b)))))
        return up + F.pixel_shuffle(r, 2)


def export(path, magic, c, convs, head=b""):
    """decoder/enhance's binary form: magic, version, C, head (an upsampler's scale), weights
    and biases per layer (little-endian float32, torch layout), CRC-32 of everything before."""
    b = bytearray(magic.encode("ascii")) + bytes([2 if head else 1, c]) + head
    for conv in convs:
        b += conv.weight.detach().float().numpy().astype("<f4").tobytes()
        b += conv.bias.detach().float().numpy().astype("<f4").tobytes()
    b += struct.pack("<I", zlib.crc32(bytes(b)) & 0xFFFFFFFF)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b)
    os.replace(tmp, path)


def pad4(a):
    """Edge-pads a luma plane to multiples of 4 (its half has even sides)."""
    h, w = a.shape
    return np.pad(a, ((0, (-h) % 4), (0, (-w) % 4)), mode="edge")


class Clip:
    def __init__(self, path, frames):
        y = Y4M(path)
        self.name = os.path.basename(path).rsplit(".", 1)[0]
        self.h, self.w = y.height, y.width
        self.fps = "20:1"
        with open(path, "rb") as f:
            for tok in f.readline().split():
                if tok.startswith(b"F"):
                    self.fps = tok[1:].decode()
        n = min(frames, y.frames)
        ys, us, vs = [], [], []
        for i in range(n):
            Y, U, V = y.frame(i)
            ys.append(pad4(Y))
            ph, pw = ys[-1].shape[0] // 2 - U.shape[0], ys[-1].shape[1] // 2 - U.shape[1]
            us.append(np.pad(U, ((0, ph), (0, pw)), mode="edge"))
            vs.append(np.pad(V, ((0, ph), (0, pw)), mode="edge"))
        self.y = torch.from_numpy(np.stack(ys)).float().unsqueeze(1) / 255  # (N,1,H4,W4)
        # Half-resolution chroma: 2x2 means of the (padded) source chroma.
        self.u = [box8(u) for u in us]
        self.v = [box8(v) for v in vs]
        self.err = {}  # k -> (N,1,H4/2,W4/2) codec error of the last round


def box8(p):
    p = p.astype(np.float32)
    q = (p[0::2, 0::2] + p[0::2, 1::2] + p[1::2, 0::2] + p[1::2, 1::2]) / 4
    return np.clip(np.floor(q + 0.5), 0, 255).astype(np.uint8)


def down_full(d, x):
    """D on whole frames: edges replicated by 8 pixels, as the Go side does."""
    with torch.no_grad():
        p = F.pad(x, (8, 8, 8, 8), mode="replicate")
        return d(p)[..., 4:-4, 4:-4]


def up_full(u, y):
    with torch.no_grad():
        p = F.pad(y, (4, 4, 4, 4), mode="replicate")
        return u(p)[..., 8:-8, 8:-8]


def write_y4m(path, clip, half):
    n, _, h, w = half.shape
    q = torch.clamp(torch.round(half * 255), 0, 255).to(torch.uint8).numpy()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{clip.fps} Ip A1:1 C420jpeg\n".encode())
        for i in range(n):
            f.write(b"FRAME\n")
            f.write(q[i, 0].tobytes())
            f.write(clip.u[i].tobytes())
            f.write(clip.v[i].tobytes())
    return q


def psnr(a, b):
    mse = float(torch.mean((a - b) ** 2))
    return 10 * np.log10(1 / max(mse, 1e-12))


def codec_round(args, clips, d, u, rnd, log):
    """The real forward pass: encode D's frames, decode every k, keep the errors."""
    work = os.path.join(args.out, "codec")
    os.makedirs(work, exist_ok=True)
    stats = {k: [0.0, 0.0, 0.0] for k in (1, 2, 3)}  # kbps, psnr learned, psnr bicubic-up
    for c in clips:
        half = down_full(d, c.y)
        q = write_y4m(os.path.join(work, c.name + ".y4m"), c, half)
        qf = torch.from_numpy(q).float() / 255
        enc = os.path.join(work, c.name)
        subprocess.run([args.strata, "encode", "--in", os.path.join(work, c.name + ".y4m"),
                        "--out", enc, "--layers", "3", "--subgop", "32", "--workers", "1"],
                       check=True, capture_output=True)
        size = {1: 0, 2: 0, 3: 0}
        for fn in os.listdir(enc):
            if fn.endswith(".nvc"):
                layer = int(fn.split(".l")[1].split(".")[0])
                for k in (1, 2, 3):
                    if layer < k:
                        size[k] += os.path.getsize(os.path.join(enc, fn))
        fps = float(Fraction(*map(int, c.fps.split(":"))))
        for k in (1, 2, 3):
            dec = os.path.join(work, f"{c.name}-k{k}.y4m")
            subprocess.run([args.strata, "decode", "--in", enc, "--layers", str(k), "--out", dec,
                            "--workers", "1"], check=True, capture_output=True)
            yy = Y4M(dec)
            dy = np.stack([yy.frame(i)[0] for i in range(yy.frames)])
            dt = torch.from_numpy(dy.copy()).float().unsqueeze(1) / 255
            c.err[k] = dt - qf
            rec = up_full(u, dt)[..., :c.h, :c.w]
            bic = torch.clamp(torch.round(bicubic2(dt) * 255), 0, 255)[..., :c.h, :c.w] / 255
            src = c.y[..., :c.h, :c.w]
            stats[k][0] += size[k] * 8 / (len(dy) / fps) / 1000 / len(clips)
            stats[k][1] += psnr(rec, src) / len(clips)
            stats[k][2] += psnr(bic, src) / len(clips)
    for k in (1, 2, 3):
        log(f"round {rnd} real codec k={k}: {stats[k][0]:.1f} kbit/s, PSNR-Y learned up "
            f"{stats[k][1]:.3f} dB, bicubic up {stats[k][2]:.3f} dB")
    return stats


def tv(h):
    h = h[..., 2:-2, 2:-2]
    return torch.mean(torch.abs(h[..., 1:, :] - h[..., :-1, :])) + torch.mean(torch.abs(h[..., :, 1:] - h[..., :, :-1]))


def train_steps(args, clips, d, u, opt, steps, rng, log):
    ref_w = Down().weight().detach()  # the bicubic start
    cs = args.crop
    tot = 0.0
    for s in range(steps):
        xs, es = [], []
        for _ in range(args.batch):
            c = clips[rng.integers(len(clips))]
            k = int(rng.integers(1, 4))
            i = int(rng.integers(c.y.shape[0]))
            H, W = c.y.shape[-2:]
            y0 = 2 * int(rng.integers(0, (H - cs) // 2 + 1))
            x0 = 2 * int(rng.integers(0, (W - cs) // 2 + 1))
            xs.append(c.y[i, :, y0:y0 + cs, x0:x0 + cs])
            es.append(c.err[k][i, :, y0 // 2:(y0 + cs) // 2, x0 // 2:(x0 + cs) // 2])
        x = torch.stack(xs)
        e = torch.stack(es)
        half = d(x)
        yhat = round8(half) + e  # the codec's surrogate: its measured error, no gradient
        rec = u(yhat)
        m = args.margin
        mse = F.mse_loss(rec[..., m:-m, m:-m], x[..., m:-m, m:-m])
        loss = torch.log(mse)
        if not args.fixed_down:
            # The rate constraint. Through the surrogate the codec looks transparent, so D
            # would sharpen without limit (the real codec then spends the bits: +42 % at
            # k = 1 for +0.6 dB in one round, worse than the plain curve). D may reshape its
            # output's spectrum but not raise its total variation (the rate proxy; the codec's
            # rate grew 1.6x as fast as it) above the bicubic kernel's on the same crops.
            with torch.no_grad():
                ref = F.conv2d(F.pixel_unshuffle(x, 2), ref_w)
            loss = loss + args.beta * F.relu(torch.log(tv(half) / tv(ref)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += float(mse)
        if (s + 1) % 100 == 0:
            log(f"  step {s + 1}: crop PSNR-Y {10 * np.log10(1 / max(tot / 100, 1e-12)):.2f} dB")
            tot = 0.0


def golden(path):
    """Test vectors for decoder/enhance's Go side (resample_test.go): random models and
    frames, and what this file's D and U make of them."""
    import json
    torch.manual_seed(7)
    d, u = Down(), Up(8)
    with torch.no_grad():
        d.ab.add_(torch.tensor([0.03, -0.02]))
        for c in (u.c1, u.c2, u.c3):
            c.weight.copy_(0.2 * torch.randn_like(c.weight))
            c.bias.copy_(0.02 * torch.randn_like(c.bias))
    rng = np.random.default_rng(7)
    # A smooth random luma plane with some edges (not a multiple of 4: 46x34).
    x = np.clip(128 + 60 * np.sin(np.arange(46)[None, :] / 5.0) * np.cos(np.arange(34)[:, None] / 4.0)
                + rng.normal(0, 12, (34, 46)), 0, 255).astype(np.uint8)
    xt = torch.from_numpy(pad4(x)).float()[None, None] / 255
    half = torch.clamp(torch.round(down_full(d, xt) * 255), 0, 255)
    h = np.clip(128 + 70 * np.sin(np.arange(32)[None, :] / 3.0 + np.arange(24)[:, None] / 5.0)
                + rng.normal(0, 10, (24, 32)), 0, 255).astype(np.uint8)
    ht = torch.from_numpy(h).float()[None, None] / 255
    up = torch.clamp(torch.round(up_full(u, ht) * 255), 0, 255)
    bic = torch.clamp(torch.round(bicubic2(ht) * 255), 0, 255)
    export(path + ".sdwn", "SDWN", 1, [d.as_conv()])
    export(path + ".senh", "SENH", 8, [u.c1, u.c2, u.c3], head=b"\x02")
    with open(path + ".json", "w") as f:
        json.dump({"src_w": 46, "src_h": 34, "src": x.flatten().tolist(),
                   "down": half.flatten().int().tolist(),
                   "half_w": 32, "half_h": 24, "half": h.flatten().tolist(),
                   "bicubic": bic.flatten().int().tolist(), "up": up.flatten().int().tolist()}, f)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--golden":
        golden(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default="bin/strata")
    ap.add_argument("--clips", required=True, help="comma-separated training Y4Ms")
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--margin", type=int, default=16)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-down", type=float, default=1e-4, help="Adam step of D's two taps")
    ap.add_argument("--beta", type=float, default=10,
                    help="weight of the rate constraint: beta * max(0, ln(TV(D(x)) / TV(bicubic(x))))")
    ap.add_argument("--fixed-down", action="store_true", help="keep D at the box filter (U alone learns)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--export-only", action="store_true", help="write OUT/down.sdwn and OUT/up.senh from OUT/resample.pt and stop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:7.0f}s] {msg}", flush=True)

    clips = [Clip(p, args.frames) for p in args.clips.split(",")]
    d, u = Down(), Up(args.channels)
    groups = [{"params": list(u.parameters()), "lr": args.lr}]
    if not args.fixed_down:
        groups.append({"params": list(d.parameters()), "lr": args.lr_down})
    opt = torch.optim.Adam(groups)
    start = 0
    ck = os.path.join(args.out, "resample.pt")
    if os.path.exists(ck):
        st = torch.load(ck)
        d.load_state_dict(st["d"])
        u.load_state_dict(st["u"])
        opt.load_state_dict(st["opt"])
        start = st["round"] + 1
        log(f"resumed after round {st['round']}")
    if args.export_only:
        export(os.path.join(args.out, "down.sdwn"), "SDWN", 1, [d.as_conv()])
        export(os.path.join(args.out, "up.senh"), "SENH", args.channels, [u.c1, u.c2, u.c3], head=b"\x02")
        return
    for rnd in range(start, args.rounds):
        if rnd == int(args.rounds * 0.7):
            for g in opt.param_groups:
                g["lr"] /= 3
        codec_round(args, clips, d, u, rnd, log)
        train_steps(args, clips, d, u, opt, args.steps, rng, log)
        export(os.path.join(args.out, "down.sdwn"), "SDWN", 1, [d.as_conv()])
        export(os.path.join(args.out, "up.senh"), "SENH", args.channels, [u.c1, u.c2, u.c3], head=b"\x02")
        torch.save({"d": d.state_dict(), "u": u.state_dict(), "opt": opt.state_dict(), "round": rnd}, ck)
        log(f"round {rnd} saved; D taps {[round(float(v), 5) for v in d.taps()]}")
    codec_round(args, clips, d, u, args.rounds, log)


if __name__ == "__main__":
    main()
