"""Quick intra-only experiment for the codec (codec.py), the measurement behind its design (docs/MODEL.md): trains the I codec on pool crops for
--minutes, then evaluates whole frames of the test clips (ideal code length)."""
import argparse, math, os, sys, time
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec
from codec import LAYERS, Codec
import motion
from y4m import Y4M

LAMBDAS = (0.0040, 0.0100, 0.0250, 0.0625)


def dist(out, ref):
    ms = [((a - b) ** 2).mean(dim=(1, 2, 3)) for a, b in zip(out, ref)]
    return (6 * ms[0] + ms[1] + ms[2]) / 8, ms


def tens(a):
    return torch.from_numpy(np.ascontiguousarray(a).astype(np.float32) / 255.0).unsqueeze(1)


def evaluate(codec, path, nframes, log):
    clip = Y4M(path)
    res = np.zeros((LAYERS, 2))
    n = 0
    for i in range(0, min(nframes, clip.frames)):
        y, u, v = clip.frame(i)
        h, w = y.shape
        y, u, v = motion.pad16(y, u, v)
        Y, U, V = (tens(a).view(1, 1, *a.shape) for a in (y, u, v))
        with torch.no_grad():
            q = codec.encode(Y, U, V)
            cum = 0
            for k in range(1, LAYERS + 1):
                cum += q[k - 1][1].item()
                Yd, Ud, Vd = codec.decode(q[k - 1][0], k, 0)
                Yd = torch.round(Yd.clamp(0, 1) * 255) / 255
                mse = ((Yd - Y)[..., :h, :w] ** 2).mean().item()
                res[k - 1, 0] += cum / (h * w)
                res[k - 1, 1] += 10 * math.log10(1 / max(mse, 1e-12))
        n += 1
    res /= n
    log(os.path.basename(path) + " " + " | ".join(f"k{k+1} {res[k,0]:.3f}bpp {res[k,1]:.2f}dB" for k in range(LAYERS)))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", default="build/train2/pool-2000-96.npz")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", default="build/proto/i.pt")
    ap.add_argument("--eval-frames", type=int, default=3)
    ap.add_argument("--groups", action="store_true",
                    help="layers = channel groups (codec.channel_bands) instead of refinements of every channel")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    z = np.load(args.pool)
    Yp, Up, Vp = z["y"], z["u"], z["v"]
    codec = Codec(False)
    if args.groups:
        codec.ent.bands = codec.channel_bands()
        with torch.no_grad():  # one step per channel, at the finest layer's initial value
            codec.ent.log_step.copy_(codec.ent.log_step[-1:].expand_as(codec.ent.log_step))
    print("MACs/px", codec.macs_per_luma_pixel())
    ent = [p for n, p in codec.named_parameters() if n.startswith("ent.")]
    rest = [p for n, p in codec.named_parameters() if not n.startswith("ent.")]
    opt = torch.optim.Adam([{"params": rest}, {"params": ent, "lr": args.lr * 10}], lr=args.lr)
    lam = torch.tensor(LAMBDAS) * 255.0 ** 2
    rng = np.random.default_rng(1)
    t0 = time.time(); step = 0; run = {}
    while time.time() - t0 < args.minutes * 60:
        i = rng.integers(len(Yp), size=args.batch); j = rng.integers(9, size=args.batch)
        Y, U, V = tens(Yp[i, j]), tens(Up[i, j]), tens(Vp[i, j])
        q = codec.encode(Y, U, V, training=True)
        loss = 0
        for k in range(1, LAYERS + 1):
            out = codec.decode(q[k - 1][0], k, 0)
            d, ms = dist(out, (Y, U, V))
            bits = sum(q[l][1] for l in range(k)).mean() / (96 * 96)
            loss = loss + bits + lam[k - 1] * d.mean()
            run[k] = 0.98 * run.get(k, np.array([bits.item(), ms[0].mean().item()])) + 0.02 * np.array([bits.item(), ms[0].mean().item()])
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if step % 100 == 0:
            print(f"{step} {time.time()-t0:.0f}s " + " | ".join(f"k{k} {run[k][0]:.3f} {10*math.log10(1/run[k][1]):.2f}" for k in run), flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save(codec.state_dict(), args.out)
    codec.eval()
    for c in ("bus_qcif", "carphone_qcif"):
        evaluate(codec, f"/tmp/strata-media/test/{c}.y4m", args.eval_frames, print)


if __name__ == "__main__":
    main()
