"""Exports trained weights and golden vectors for the Go engine (format: docs/MODEL.md).

    /usr/bin/python3 encoder/train/export.py --work build/train --out assets/model --golden decoder/testdata

Writes OUT/nvc.safetensors (every tensor, float32, safetensors layout), OUT/manifest.json
(format version, hyper-parameters, SHA-256 of the weights file, training summary) and
GOLDEN/golden.safetensors (inputs and PyTorch outputs of both networks of both models).
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DCLASSES, Codec, decoder_macs_per_luma_pixel  # noqa: E402
from train import I_BITS, I_LAYERS, P_BITS, P_LAYERS  # noqa: E402

FORMAT = "strata-nvc"
VERSION = 1


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


def load_models(work):
    st = torch.load(os.path.join(work, "ckpt.pt"))
    i, p = Codec(I_BITS, I_LAYERS), Codec(P_BITS, P_LAYERS)
    i.load_state_dict(st["i"])
    p.load_state_dict(st["p"])
    i.eval()
    p.eval()
    return i, p, st


def golden(models, seed=7):
    """Random but realistic inputs (64x96 luma: non-square to catch transposes)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for tag, m in models.items():
        K, bits = m.layers, m.bits
        h, w = 32, 48
        pred = torch.rand(1, 6, h, w, generator=g)
        if tag == "i":
            pred = torch.full_like(pred, 0.5)
        x = (pred + 0.1 * torch.randn(1, 6, h, w, generator=g)).clamp(0, 1)
        k = K // 2 + 1
        d = 0 if tag == "i" else DCLASSES - 1
        codes = torch.where(torch.rand(1, K * bits, h // 8, w // 8, generator=g) < 0.5, -1.0, 1.0)
        codes[:, k * bits:] = 0
        with torch.no_grad():
            dec = m.dec(codes, k, d, pred)
            logits = m.enc(x - pred, pred, k - 1, d)
        meta = torch.tensor([float(k), float(d)])
        for name, t in (("pred", pred), ("x", x), ("codes", codes), ("dec_out", dec),
                        ("enc_logits", logits), ("k_d", meta)):
            out[f"{tag}.{name}"] = t[0].numpy() if t.dim() == 4 else t.numpy()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="build/train")
    ap.add_argument("--out", default="assets/model")
    ap.add_argument("--golden", default="decoder/testdata")
    args = ap.parse_args()
    torch.set_num_threads(1)
    i, p, st = load_models(args.work)
    tensors = {}
    for tag, m in (("i", i), ("p", p)):
        for k, v in m.state_dict().items():
            tensors[f"{tag}.{k}"] = v.numpy()
    meta = {"format": FORMAT, "version": VERSION, "i_bits": I_BITS, "i_layers": I_LAYERS,
            "p_bits": P_BITS, "p_layers": P_LAYERS, "dclasses": DCLASSES}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "nvc.safetensors")
    write_safetensors(path, tensors, meta)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    nparams = {tag: sum(v.numel() for v in m.dec.parameters()) for tag, m in (("i", i), ("p", p))}
    nenc = {tag: sum(v.numel() for v in m.enc.parameters()) for tag, m in (("i", i), ("p", p))}
    manifest = dict(meta, file="nvc.safetensors", sha256=digest, steps=st["step"],
                    train_minutes=round(st["elapsed"] / 60, 1),
                    decoder_params=nparams, encoder_params=nenc,
                    decoder_macs_per_luma_pixel={"i": decoder_macs_per_luma_pixel(I_BITS, I_LAYERS),
                                                 "p": decoder_macs_per_luma_pixel(P_BITS, P_LAYERS)})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.makedirs(args.golden, exist_ok=True)
    write_safetensors(os.path.join(args.golden, "golden.safetensors"), golden({"i": i, "p": p}),
                      {"format": FORMAT + "-golden", "version": VERSION, "weights_sha256": digest})
    print(json.dumps(manifest, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
