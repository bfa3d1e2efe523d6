"""Codec v2: a rate-distortion-trained layered codec with entropy-coded integer latents.

Signal: YUV 4:2:0 as 6 channels at half resolution (pack6 of model.py), values in [0, 1].

Latent: one tensor y of C channels on the 1/16 luma grid (one position per 16x16 block).
Layers are refinements of that one latent (learned per-layer, per-channel quantizer steps,
DeepHQ-style): layer 1 sends q1 = round(y / s1); layer l sends ql = round((y - y_{l-1}) / sl)
with y_l = y_{l-1} + ql * sl. The decoder dequantizes whatever layers arrived (y_k) and runs
once, so its cost does not depend on k.

Entropy model: each symbol ql[c] is coded with a discretised Laplace(0, b) table indexed by
(frame kind, distance class, layer, channel, context), context = whether y_{l-1} is zero at
that position (layers >= 2). Exported as integer CDF tables: no floats in entropy decoding.

P-frames: the prediction is overlapped block motion compensation (OBMC) of the decoded
reference with the block vectors of docs/MOTION.md; the decoder refines it and a small
restoration stage at half resolution sees both the reconstruction and the prediction.

Decoder operations: 3x3 and 1x1 convolutions, depth-to-space, ReLU, residual adds and
per-channel scale/bias (the level embedding) -- the fast engine's operation set.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import pack6, unpack6  # noqa: F401  (re-exported for the trainer)

DCLASSES = 4     # reference distance 1, 2, 4, 8 -> class 0..3 (I-frames use class 0)
LATENT = 64      # latent channels on the 1/16 luma grid
LAYERS = 4       # refinement layers


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=1)
        self.b = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.b(F.relu(self.a(x)))


class Decoder(nn.Module):
    """Dequantized latent (B, C, h/8, w/8) [+ prediction (B, 6, h, w)] -> frame (B, 6, h, w).

    h, w: the half-resolution plane size. Scales below are of the luma grid.
    """

    def __init__(self, inter, c16=96, c8=48, c4=24, crest=16):
        super().__init__()
        self.inter = inter
        self.inp = nn.Conv2d(LATENT, c16, 1)                      # 1/16
        self.emb_scale = nn.Parameter(torch.ones(LAYERS, DCLASSES, c16))
        self.emb_bias = nn.Parameter(torch.zeros(LAYERS, DCLASSES, c16))
        self.rb16 = ResBlock(c16)
        self.up16 = nn.Conv2d(c16, 4 * c8, 1)                     # -> 1/8
        self.rb8 = ResBlock(c8)
        self.up8 = nn.Conv2d(c8, 4 * c4, 1)                       # -> 1/4
        self.rb4 = ResBlock(c4)
        self.out = nn.Conv2d(c4, 4 * 6, 3, padding=1)             # -> 1/2 (6 channels)
        if inter:
            self.pred8 = nn.Conv2d(6 * 16, c8, 1)
            self.pred4 = nn.Conv2d(6 * 4, c4, 1)
        rin = 12 if inter else 6
        self.rest_a = nn.Conv2d(rin, crest, 3, padding=1)         # restoration at 1/2
        self.rest_b = nn.Conv2d(crest, 6, 3, padding=1)
        for m in (self.out, self.rest_b):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
        self.dims = (c16, c8, c4, crest)

    def forward(self, yhat, k, d, pred=None):
        f = self.inp(yhat)
        f = f * self.emb_scale[k - 1, d].view(1, -1, 1, 1) + self.emb_bias[k - 1, d].view(1, -1, 1, 1)
        f = self.rb16(F.relu(f))
        f = F.pixel_shuffle(self.up16(f), 2)
        if self.inter:
            f = f + self.pred8(F.pixel_unshuffle(pred, 4))
        f = self.rb8(F.relu(f))
        f = F.pixel_shuffle(self.up8(f), 2)
        if self.inter:
            f = f + self.pred4(F.pixel_unshuffle(pred, 2))
        f = self.rb4(F.relu(f))
        x = F.pixel_shuffle(self.out(f), 2) + (pred if self.inter else 0.5)
        r = torch.cat([x, pred], 1) if self.inter else x
        return x + self.rest_b(F.relu(self.rest_a(r)))

    def macs_per_luma_pixel(self):
        c16, c8, c4, cr = self.dims
        m = LATENT * c16 / 256 + 2 * 9 * c16 * c16 / 256 + c16 * 4 * c8 / 256
        m += 2 * 9 * c8 * c8 / 64 + c8 * 4 * c4 / 64
        m += 2 * 9 * c4 * c4 / 16 + 9 * c4 * 24 / 16
        if self.inter:
            m += 96 * c8 / 64 + 24 * c4 / 16
        rin = 12 if self.inter else 6
        m += 9 * rin * cr / 4 + 9 * cr * 6 / 4
        return m


class Encoder(nn.Module):
    """Frame [and residual + prediction] at half resolution -> latent y (B, C, h/8, w/8)."""

    def __init__(self, inter):
        super().__init__()
        self.inter = inter
        cin = 12 if inter else 6
        self.c1 = nn.Conv2d(cin, 64, 3, stride=2, padding=1)      # 1/4
        self.emb_scale = nn.Parameter(torch.ones(DCLASSES, 64))
        self.emb_bias = nn.Parameter(torch.zeros(DCLASSES, 64))
        self.rb1 = ResBlock(64)
        self.c2 = nn.Conv2d(64, 96, 3, stride=2, padding=1)       # 1/8
        self.rb2 = ResBlock(96)
        self.c3 = nn.Conv2d(96, 128, 3, stride=2, padding=1)      # 1/16
        self.rb3 = ResBlock(128)
        self.c4 = nn.Conv2d(128, LATENT, 1)

    def forward(self, x, d, pred=None):
        inp = torch.cat([(x - pred) * 4.0, pred], 1) if self.inter else x - 0.5
        f = self.c1(inp)
        f = F.relu(f * self.emb_scale[d].view(1, -1, 1, 1) + self.emb_bias[d].view(1, -1, 1, 1))
        f = self.rb1(f)
        f = self.rb2(F.relu(self.c2(f)))
        f = self.rb3(F.relu(self.c3(f)))
        return self.c4(f)


def ste_round(x):
    return x + (torch.round(x) - x).detach()


def laplace_cdf(x, b):
    return 0.5 + 0.5 * torch.sign(x) * (1 - torch.exp(-x.abs() / b))


class Entropy(nn.Module):
    """Per-(distance class, layer, channel, context) Laplace scales and per-(layer, channel) steps.

    mode "refine": every layer refines all channels of the latent (nested quantizers).
    mode "groups": layer l carries its own block of LATENT/LAYERS channels, quantized once
    (ProgDTD-style channel groups); k layers = the first k blocks, the rest zero.
    """

    def __init__(self, mode="refine"):
        super().__init__()
        self.mode = mode
        init_b = torch.tensor([1.5] + [0.4] * (LAYERS - 1)).view(1, LAYERS, 1, 1).expand(DCLASSES, LAYERS, LATENT, 2)
        self.log_b = nn.Parameter(torch.log(init_b.clone()))
        init_s = torch.tensor([2.0 ** -l for l in range(LAYERS)]).view(LAYERS, 1).expand(LAYERS, LATENT)
        self.log_step = nn.Parameter(torch.log(init_s.clone()))

    def steps(self):
        return torch.exp(self.log_step)

    def quantize(self, y, d, training):
        """Returns [(yhat_l, bits_l)] for l = 1..LAYERS; bits_l: (B,) total bits of layer l."""
        if self.mode == "groups":
            return self._groups(y, d, training)
        steps = self.steps()
        out = []
        prev = torch.zeros_like(y)
        prev_zero = torch.ones_like(y, dtype=torch.bool)
        for l in range(LAYERS):
            s = steps[l].view(1, -1, 1, 1)
            r = (y - prev) / s
            if training:
                qn = r + torch.empty_like(r).uniform_(-0.5, 0.5)
            else:
                qn = torch.round(r)
            q = ste_round(r)
            b = torch.exp(self.log_b[d, l])                       # (C, 2)
            ctx = (~prev_zero).long() if l > 0 else torch.zeros_like(r, dtype=torch.long)
            bsel = torch.where(ctx.bool(), b[:, 1].view(1, -1, 1, 1), b[:, 0].view(1, -1, 1, 1))
            p = laplace_cdf(qn + 0.5, bsel) - laplace_cdf(qn - 0.5, bsel)
            bits = -torch.log2(p.clamp_min(1e-9)).sum(dim=(1, 2, 3))
            yhat = prev + q * s
            out.append((yhat, bits))
            prev_zero = prev_zero & (torch.round(r) == 0)
            prev = yhat
        return out


class Codec(nn.Module):
    def __init__(self, inter, mode="refine"):
        super().__init__()
        self.inter = inter
        self.enc = Encoder(inter)
        self.dec = Decoder(inter)
        self.ent = Entropy(mode)


def _groups_impl(self, y, d, training):
    """Channel groups: layer l quantizes channels [l·G, (l+1)·G) with its step (layer 1's
    step table is used for every group's channel); yhat_k keeps the first k groups."""
    G = LATENT // LAYERS
    s = self.steps()[0].view(1, -1, 1, 1)
    r = y / s
    qn = r + torch.empty_like(r).uniform_(-0.5, 0.5) if training else torch.round(r)
    yq = ste_round(r) * s
    out = []
    for l in range(LAYERS):
        sl = slice(l * G, (l + 1) * G)
        b = torch.exp(self.log_b[d, l, sl, 0]).view(1, -1, 1, 1)
        q = qn[:, sl]
        p = laplace_cdf(q + 0.5, b) - laplace_cdf(q - 0.5, b)
        bits = -torch.log2(p.clamp_min(1e-9)).sum(dim=(1, 2, 3))
        keep = torch.zeros(1, LATENT, 1, 1, device=y.device)
        keep[:, : (l + 1) * G] = 1
        out.append((yq * keep, bits))
    return out


Entropy._groups = _groups_impl


# --- overlapped block motion compensation (OBMC) -------------------------------------------
# Own-block weight (of 16) by position inside a 16x16 luma block / 8x8 chroma block; the rest
# goes to the neighbouring block on that side (the nearer edge). Separable in y and x.
W16 = [10, 12, 14, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 12, 10]
W8 = [10, 14, 16, 16, 16, 16, 14, 10]


def _obmc_tables(nb, bs, w, device):
    """Per pixel along one axis: own block index, neighbour block index, own weight in [0,1]."""
    n = nb * bs
    pos = torch.arange(n, device=device)
    own = pos // bs
    off = pos % bs
    nbr = torch.where(off < bs // 2, own - 1, own + 1).clamp(0, nb - 1)
    wt = torch.tensor(w, dtype=torch.float32, device=device)[off] / 16.0
    return own, nbr, wt


def _warp(plane, my, mx, scale):
    """Bilinear sample of plane (B,1,H,W) at (y + my/scale, x + mx/scale), edge clamped."""
    B, _, H, W = plane.shape
    ys = torch.arange(H, device=plane.device, dtype=torch.float32).view(1, H, 1) + my / scale
    xs = torch.arange(W, device=plane.device, dtype=torch.float32).view(1, 1, W) + mx / scale
    ys = ys.clamp(0, H - 1)
    xs = xs.clamp(0, W - 1)
    grid = torch.stack([2 * xs / (W - 1) - 1, 2 * ys / (H - 1) - 1], dim=-1)
    return F.grid_sample(plane, grid, mode="bilinear", padding_mode="border", align_corners=True)


def obmc(ref_y, ref_u, ref_v, mv):
    """OBMC prediction from a reference frame. mv: (B, nby, nbx, 2) half-pel (y, x) per 16x16
    luma block. Returns (y, u, v) predictions, float in [0, 1]."""
    return obmc_bi((ref_y, ref_u, ref_v), None, mv, None, None)


def psnr(mse):
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def integer_table(b, a, bits=16):
    """The integer frequency table of a discretised Laplace(0, b) over -a..a plus one escape
    symbol (the tails), as decoder/cdf.go reads it: every frequency >= 1, the sum exactly
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


def obmc_bi(past, fut, mvf, mvb, modes):
    """Float OBMC (bi-)prediction (motion.obmc_bi's training twin): past, fut: (y, u, v) planes
    (B,1,H,W); mvf, mvb: (B, nby, nbx, 2) half-pel; modes: (B, nby, nbx) 0 fwd, 1 bwd, 2 both.
    fut is None (mvb, modes too) for one reference: obmc()."""
    B, nby, nbx, _ = mvf.shape
    mvf = mvf.float()
    mvb = mvb.float() if fut is not None else None
    outs = []
    for pi, bs, w, scale in ((0, 16, W16, 2.0), (1, 8, W8, 4.0), (2, 8, W8, 4.0)):
        plane_p = past[pi]
        oy, ny, wy = _obmc_tables(nby, bs, w, plane_p.device)
        ox, nx, wx = _obmc_tables(nbx, bs, w, plane_p.device)
        acc = 0
        for yi, wyy in ((oy, wy), (ny, 1 - wy)):
            for xi, wxx in ((ox, wx), (nx, 1 - wx)):
                ff = mvf[:, yi][:, :, xi]                                # (B, H, W, 2)
                v = _warp(plane_p, ff[..., 0], ff[..., 1], scale)
                if fut is not None:
                    fb = mvb[:, yi][:, :, xi]
                    mm = modes[:, yi][:, :, xi].unsqueeze(1)
                    b = _warp(fut[pi], fb[..., 0], fb[..., 1], scale)
                    v = torch.where(mm == 0, v, torch.where(mm == 1, b, 0.5 * (v + b)))
                acc = acc + v * (wyy.view(1, 1, -1, 1) * wxx.view(1, 1, 1, -1))
        outs.append(acc)
    return outs
