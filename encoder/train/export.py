"""Exports the codec (codec.py) weights, entropy tables and golden vectors for the
Go engine (weights format version 2, docs/MODEL.md).

    /usr/bin/python3 encoder/train/export.py --ckpt build/train/ckpt.pt --out assets/model \
        --golden decoder/testdata

OUT/weights.safetensors: every tensor float32; per kind (i, p):
  syn.conv, rest.{a,b,c} (weight, bias), rest.emb_scale/emb_bias (LAYERS x DCLASSES x 32),
  ana.{lin,a,b} (the encoder's analysis transform), ent.steps (LAYERS x 96 quantizer steps),
  ent.table (LAYERS x 96 x NCTX: index of the frequency table each context uses),
  ent.flag_freq (LAYERS x 3 x NFCTX x 2: 16-bit frequencies of a coded-block flag's 0 and 1);
  tables.sizes (symbols per table), tables.freqs (all tables' 16-bit frequencies, concatenated).
Table j is the discretised Laplace(0, b_j), b_j = TABLE_B0 * TABLE_RATIO^j (in quantizer steps),
over -A_j..A_j plus an escape (integer_table); a context's scale is rounded to the
nearest b_j in log scale.
OUT/manifest.json: format, version, SHA-256 of the weights, training summary.
GOLDEN/golden.safetensors: a synthetic 32x48 frame per kind coded by the PyTorch encoder: its
planes, the prediction (P: integer OBMC of a reference with random vectors, motion.obmc), the
integers of every layer, the ideal code length per layer, the decoded planes for each k, and
an OBMC test (reference, vectors, prediction), a bi-prediction test (future frame, backward
vectors, modes, prediction) and the block modes motion.block_modes picks.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402
import codec  # noqa: E402
from codec import DCLASSES, LAYERS, NCH, NCTX, Codec  # noqa: E402

FORMAT = "strata-nvc"
VERSION = 2
TABLE_B0 = 0.04
TABLE_RATIO = 1.08
NTABLES = 96


def write_safetensors(path, tensors, metadata, half=()):
    """safetensors layout; tensors whose name starts with one of `half` are stored as F16."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, off = [], 0
    for name in sorted(tensors):
        f16 = bool(half) and name.startswith(tuple(half))
        a = np.ascontiguousarray(tensors[name], dtype="<f2" if f16 else "<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F16" if f16 else "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def integer_table(b, a, bits=16):
    """The integer frequency table of a discretised Laplace(0, b) over -a..a plus one escape
    symbol (the tails), as decoder/entropy/cdf.go reads it: every frequency >= 1, the sum exactly
    2^bits, the rounding remainder on the mode. b is in quantizer steps."""
    n = 2 * a + 2
    scale = (1 << bits) - n
    freqs = []
    for i in range(n):
        if i == n - 1:
            p = 2 * 0.5 * math.exp(-(a + 0.5) / b)
        else:
            q = i - a
            lo, hi = q - 0.5, q + 0.5
            cdf = lambda x: 0.5 * math.exp(x / b) if x < 0 else 1 - 0.5 * math.exp(-x / b)  # noqa: E731
            p = cdf(hi) - cdf(lo)
        freqs.append(max(1, int(p * scale)))
    freqs[a] += (1 << bits) - sum(freqs)
    return freqs


def table_alphabet(b):
    return int(min(64, max(2, math.ceil(6 * b))))


def table_index(b):
    j = np.round(np.log(np.asarray(b) / TABLE_B0) / math.log(TABLE_RATIO))
    return np.clip(j, 0, NTABLES - 1).astype(np.int64)


def flag_freqs(logits):
    """16-bit frequencies (f0, f1) of each coded-block flag context: f1 = P(flag) * 2^16,
    clamped to 1..2^16-1."""
    p1 = torch.sigmoid(logits.double()).numpy()
    f1 = np.clip(np.round(p1 * 65536), 1, 65535)
    return np.stack([65536 - f1, f1], -1).astype(np.float32)


def tables():
    sizes, freqs = [], []
    for j in range(NTABLES):
        b = TABLE_B0 * TABLE_RATIO ** j
        f = integer_table(b, table_alphabet(b))
        sizes.append(len(f))
        freqs.extend(f)
    return np.array(sizes, np.float32), np.array(freqs, np.float32)


def load(ckpt):
    st = torch.load(ckpt, map_location="cpu")
    i, p = Codec(False), Codec(True)
    i.load_state_dict({k: v.float() for k, v in st["i"].items()})
    p.load_state_dict({k: v.float() for k, v in st["p"].items()})
    for m in (i, p):
        m.eval()
        with torch.no_grad():  # the file stores the networks' weights as F16: compute with those
            for n, v in m.named_parameters():
                if not n.startswith("ent."):
                    v.copy_(v.half().float())
    return i, p, st


def tensors_of(tag, m):
    t = {}
    for k, v in m.state_dict().items():
        if k.startswith("ent."):
            continue
        t[f"{tag}.{k}"] = v.numpy()
    t[f"{tag}.ent.steps"] = m.ent.steps().detach().numpy()
    t[f"{tag}.ent.flag_freq"] = flag_freqs(m.ent.flag_logit.detach())
    t[f"{tag}.ent.table"] = table_index(torch.exp(m.ent.log_b).detach().numpy()).astype(np.float32)
    return t


def synthetic(g, h, w):
    """A smooth random picture with edges and texture, planes uint8."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    y = 128 + 60 * np.sin(xx / (5 + 10 * g.random()) + g.random() * 6) * np.cos(yy / (7 + 9 * g.random()))
    y += 40 * (xx > w * g.random()) + g.normal(0, 6, (h, w))
    u = 128 + 30 * np.sin(xx[::2, ::2] / 9.0 + g.random() * 6)
    v = 128 + 30 * np.cos(yy[::2, ::2] / 7.0 + g.random() * 6)
    return tuple(np.clip(a, 0, 255).round().astype(np.uint8) for a in (y, u, v))


def planes(p):
    return tuple(torch.from_numpy(a.astype(np.float32) / 255.0)[None, None] for a in p)


def golden(icodec, pcodec, seed=7):
    g = np.random.default_rng(seed)
    h, w = 32, 48
    out = {}
    ref = synthetic(g, h, w)
    mv = g.integers(-12, 13, (h // 16, w // 16, 2))
    pred = motion.obmc(ref, mv)
    out["obmc.ref_y"], out["obmc.ref_u"], out["obmc.ref_v"] = [a.astype(np.float32) for a in ref]
    out["obmc.mv"] = mv.astype(np.float32)
    out["obmc.pred_y"], out["obmc.pred_u"], out["obmc.pred_v"] = [a.astype(np.float32) for a in pred]
    # Bi-prediction: past = obmc.ref with obmc.mv forward, a future frame, backward vectors,
    # random modes (motion.obmc_bi); and the modes motion.block_modes picks for a current frame.
    fut = synthetic(g, h, w)
    mvb = g.integers(-12, 13, (h // 16, w // 16, 2))
    modes = g.integers(0, 3, (h // 16, w // 16))
    bi = motion.obmc_bi(ref, fut, mv, mvb, modes)
    cur = tuple(((a.astype(np.int32) + b.astype(np.int32) + 1) // 2).astype(np.uint8) for a, b in zip(ref, fut))
    out["obmcbi.fut_y"], out["obmcbi.fut_u"], out["obmcbi.fut_v"] = [a.astype(np.float32) for a in fut]
    out["obmcbi.mvb"] = mvb.astype(np.float32)
    out["obmcbi.modes"] = modes.astype(np.float32)
    out["obmcbi.pred_y"], out["obmcbi.pred_u"], out["obmcbi.pred_v"] = [a.astype(np.float32) for a in bi]
    out["blockmodes.cur_y"] = cur[0].astype(np.float32)
    out["blockmodes.modes"] = motion.block_modes(cur[0], ref[0], fut[0], mv, mvb).astype(np.float32)
    for tag, m in (("i", icodec), ("p", pcodec)):
        x = synthetic(g, h, w)
        d = 0 if tag == "i" else 2
        pr = planes(pred) if tag == "p" else None
        with torch.no_grad():
            xg = codec.to_coef_grid(*planes(x))
            r = xg - codec.to_coef_grid(*pr) if m.inter else xg - 0.5
            y = m.ana(r, codec.to_coef_grid(*pr) if m.inter else None)
            q = m.ent.quantize(y, False, not m.inter)
            steps = m.ent.steps()
            ints, prev = [], torch.zeros_like(y)
            for l in range(LAYERS):
                qi = codec.dz_round((y - prev) / steps[l].view(1, -1, 1, 1), codec.DEADZONE[l])
                ints.append(qi[0].numpy())
                prev = prev + qi * steps[l].view(1, -1, 1, 1)
            out[f"{tag}.x_y"], out[f"{tag}.x_u"], out[f"{tag}.x_v"] = [a.astype(np.float32) for a in x]
            out[f"{tag}.y"] = y[0].numpy()
            out[f"{tag}.ints"] = np.stack(ints)
            out[f"{tag}.bits"] = np.array([b.item() for _, b in q], np.float32)
            out[f"{tag}.d"] = np.array([d], np.float32)
            for k in range(1, LAYERS + 1):
                Y, U, V = m.decode(q[k - 1][0], k, d, pr)
                out[f"{tag}.dec{k}_y"], out[f"{tag}.dec{k}_u"], out[f"{tag}.dec{k}_v"] = \
                    Y[0, 0].numpy(), U[0, 0].numpy(), V[0, 0].numpy()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="build/train/ckpt.pt")
    ap.add_argument("--out", default="assets/model")
    # Golden vectors only where asked (make export: decoder/testdata): an export to a
    # scratch directory must not overwrite the committed ones.
    ap.add_argument("--golden", default="", help="write golden.safetensors (decoder's parity vectors) here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    i, p, st = load(args.ckpt)
    t = {}
    t.update(tensors_of("i", i))
    t.update(tensors_of("p", p))
    t["tables.sizes"], t["tables.freqs"] = tables()
    meta = {"format": FORMAT, "version": VERSION, "layers": LAYERS, "dclasses": DCLASSES, "channels": NCH,
            "contexts": NCTX, "tables": NTABLES, "table_b0": TABLE_B0, "table_ratio": TABLE_RATIO}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "weights.safetensors")
    write_safetensors(path, t, meta, half=("i.ana.", "i.syn.", "i.rest.", "p.ana.", "p.syn.", "p.rest."))
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    dec = lambda m: sum(v.numel() for n, v in m.named_parameters() if n.startswith(("syn.", "rest.")))  # noqa: E731
    manifest = dict(meta, file="weights.safetensors", sha256=digest, steps=st["step"],
                    train_minutes=round(st["elapsed"] / 60, 1), lambdas=list(st.get("lambdas", [])),
                    intra_lambda=st.get("intra_lambda"),
                    decoder_params={"i": dec(i), "p": dec(p)},
                    decoder_macs_per_luma_pixel={"i": i.macs_per_luma_pixel(), "p": p.macs_per_luma_pixel()})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    if args.golden:
        os.makedirs(args.golden, exist_ok=True)
        write_safetensors(os.path.join(args.golden, "golden.safetensors"), golden(i, p),
                          {"format": FORMAT + "-golden", "version": VERSION, "weights_sha256": digest})
    print(json.dumps(manifest, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
