"""The codec: layered *transform* coding with a learned lapped transform.

Why (docs/MODEL.md, "Why a transform codec"): an earlier design coded a 1/16-grid latent
through a small non-linear decoder; its layers saturate (bus: +1.4 dB for 4x the bits) because
the synthesis cannot render detail whatever the rate. Here the synthesis is *critically
sampled and linear*: one coefficient per sample, so finer steps always buy quality, and a
small non-linear restoration stage cleans up what the quantizer leaves.

Signal: Y, U, V planes (4:2:0), values in [0, 1], padded to multiples of 16.
Coefficients: 96 channels on the 1/8 luma grid (64 for Y's 8x8 block, 16 each for U's and V's
4x4 blocks) from an analysis transform (encoder only, any cost).
Layers: nested quantizers of the same coefficients. Layer 1 sends q1 = round(y / s1); layer l
sends ql = round((y - yhat_{l-1}) / sl); yhat_l = yhat_{l-1} + ql * sl; steps per layer and
channel. The decoder dequantizes the layers it has and runs once.
Synthesis (decoder): a 3x3 convolution 96 -> 96 on the 1/8 grid (a learned lapped transform:
every basis function spans 24x24 luma pixels, so there are no block edges), depth-to-space
back to the planes, + the prediction (P) or mid-grey (I), then restoration: three 3x3
convolutions at the 1/4 grid (24 channels = space-to-depth of the planes, + the prediction's
for P), ReLU, a per-(level, distance class) channel scale/bias, residual add.
Entropy model: per layer, position and plane (Y, U, V) a coded-block flag (any non-zero
integer?) with a learned probability per context (the left and upper flags, and for layers
>= 2 whether lower layers were non-zero there); the integers of coded blocks only, each with a
discretised Laplace(mu, b) table; b indexed by
(kind, layer, channel, context); context from already-decoded integers: the left and upper
neighbours' magnitudes in the same channel and how many lower-frequency channels of the same
plane are non-zero at this position (layer >= 2: whether the previous layers left it zero).
mu = 0 except for the DC channels of layer 1 in I-frames: the median predictor of the left,
upper and upper-left integers (integer arithmetic, exact in the decoder).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS = 4
DCLASSES = 4
NCH = 96                 # 64 Y + 16 U + 16 V on the 1/8 luma grid
GROUPS = ((0, 64), (64, 80), (80, 96))
DC = (0, 64, 80)
NCTX = 16
NFCTX = 8                # contexts of a block's coded flag
# Dead-zone rounding of the quantizer (the Go encoder's decoder.DeadZone): q = sign(r)
# floor(|r| + 0.5 - theta), theta per layer. A refinement whose |r| is just above 0.5 moves the
# reconstruction from one side of y to the other for almost no distortion gain but costs a
# non-zero symbol; measured with the step-11,531 weights (docs/MODEL.md): -29 % / -36 % BD-rate
# on carphone / bus at theta = 0.15 (layer 1), 0.25 (refinements). Training rounds the decoder's
# input the same way.
DEADZONE = (0.15, 0.25, 0.25, 0.25)


def dz_round(r, theta):
    return torch.sign(r) * torch.clamp(torch.floor(r.abs() + 0.5 - theta), min=0)


def dct_matrix(n):
    m = np.zeros((n, n))
    for k in range(n):
        for i in range(n):
            m[k, i] = math.cos(math.pi * (i + 0.5) * k / n) * (math.sqrt(1 / n) if k == 0 else math.sqrt(2 / n))
    return m


def zigzag(n):
    order = sorted(((i, j) for i in range(n) for j in range(n)), key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else p[1]))
    return order


def dct_basis():
    """(96, 96) matrix B: coefficient channel -> pixel channel (pixel_unshuffle order) for the
    inverse 2-D DCT of the Y 8x8 and U, V 4x4 blocks, coefficients in zig-zag order."""
    B = np.zeros((NCH, NCH))
    for (a, b) in GROUPS:
        n = 8 if a == 0 else 4
        m = dct_matrix(n)
        for ci, (ky, kx) in enumerate(zigzag(n)):
            basis = np.outer(m[ky], m[kx])          # (n, n) pixel pattern
            B[a + ci, a:b] = basis.reshape(-1)
    return B


def to_coef_grid(Y, U, V):
    return torch.cat([F.pixel_unshuffle(Y, 8), F.pixel_unshuffle(U, 4), F.pixel_unshuffle(V, 4)], 1)


def from_coef_grid(g):
    return F.pixel_shuffle(g[:, :64], 8), F.pixel_shuffle(g[:, 64:80], 4), F.pixel_shuffle(g[:, 80:], 4)


def to_q(Y, U, V):
    return torch.cat([F.pixel_unshuffle(Y, 4), F.pixel_unshuffle(U, 2), F.pixel_unshuffle(V, 2)], 1)


def from_q(g):
    return F.pixel_shuffle(g[:, :16], 4), F.pixel_shuffle(g[:, 16:20], 2), F.pixel_shuffle(g[:, 20:], 2)


class Synthesis(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(NCH, NCH, 3, padding=1)
        B = torch.tensor(dct_basis(), dtype=torch.float32)    # coef -> pixel
        w = torch.zeros(NCH, NCH, 3, 3)
        w[:, :, 1, 1] = B.t()                                  # out pixel ch <- in coef ch
        with torch.no_grad():
            self.conv.weight.copy_(w)
            self.conv.bias.zero_()

    def forward(self, c):
        return self.conv(c)


class Analysis(nn.Module):
    def __init__(self, inter):
        super().__init__()
        self.inter = inter
        self.lin = nn.Conv2d(NCH, NCH, 3, padding=1)
        B = torch.tensor(dct_basis(), dtype=torch.float32)
        w = torch.zeros(NCH, NCH, 3, 3)
        w[:, :, 1, 1] = B                                      # coef <- pixel (orthonormal)
        with torch.no_grad():
            self.lin.weight.copy_(w)
            self.lin.bias.zero_()
        cin = 2 * NCH if inter else NCH
        self.a = nn.Conv2d(cin, 192, 3, padding=1)
        self.b = nn.Conv2d(192, NCH, 3, padding=1)
        nn.init.zeros_(self.b.weight)
        nn.init.zeros_(self.b.bias)

    def forward(self, r, pred=None):
        """r: residual planes as a coefficient grid (x - pred, or x - 0.5)."""
        inp = torch.cat([r, pred], 1) if self.inter else r
        return self.lin(r) + self.b(F.relu(self.a(inp)))


class Restore(nn.Module):
    def __init__(self, inter, c=32):
        super().__init__()
        self.inter = inter
        cin = 48 if inter else 24
        self.a = nn.Conv2d(cin, c, 3, padding=1)
        self.emb_scale = nn.Parameter(torch.ones(LAYERS, DCLASSES, c))
        self.emb_bias = nn.Parameter(torch.zeros(LAYERS, DCLASSES, c))
        self.b = nn.Conv2d(c, c, 3, padding=1)
        self.c = nn.Conv2d(c, 24, 3, padding=1)
        nn.init.zeros_(self.c.weight)
        nn.init.zeros_(self.c.bias)
        self.ch = c

    def forward(self, xq, k, d, predq=None):
        inp = torch.cat([xq, predq], 1) if self.inter else xq
        f = self.a(inp)
        f = F.relu(f * self.emb_scale[k - 1, d].view(1, -1, 1, 1) + self.emb_bias[k - 1, d].view(1, -1, 1, 1))
        f = F.relu(self.b(f))
        return xq + self.c(f)

    def macs(self):
        cin = 48 if self.inter else 24
        return (9 * cin * self.ch + 9 * self.ch * self.ch + 9 * self.ch * 24) / 16


def ste_round(x):
    return x + (torch.round(x) - x).detach()


def laplace_cdf(x, b):
    return 0.5 + 0.5 * torch.sign(x) * (1 - torch.exp(-x.abs() / b))


def _shift(q, dy, dx):
    """q shifted so position (i, j) holds q[i - dy, j - dx]; zeros outside."""
    return F.pad(q, (dx, 0, dy, 0))[:, :, : q.shape[2], : q.shape[3]]


def med_pred(q):
    """Median (LOCO-I) predictor of each integer from its left, upper, upper-left neighbours."""
    a = _shift(q, 0, 1)
    b = _shift(q, 1, 0)
    c = _shift(q, 1, 1)
    mx = torch.maximum(a, b)
    mn = torch.minimum(a, b)
    return torch.where(c >= mx, mn, torch.where(c <= mn, mx, a + b - c))


def contexts(qi, prev_nz, layer):
    """Context index 0..15 per integer. qi: this layer's integers (B, 96, h, w), detached."""
    a = qi.abs()
    nb = (_shift(a, 0, 1) + _shift(a, 1, 0)).clamp(max=3)            # 0..3
    nzc = []
    for s, e in GROUPS:
        nz = (qi[:, s:e] != 0).float()
        cum = torch.cumsum(nz, 1) - nz                                # non-zeros in lower channels
        nzc.append(cum)
    lower = torch.cat(nzc, 1)
    if layer == 0:
        lb = torch.bucketize(lower, torch.tensor([0.5, 2.5, 5.5], device=qi.device))  # 0,1-2,3-5,6+
        return (nb * 4 + lb).long()
    lb = (lower > 0.5).float()
    return (nb * 4 + lb * 2 + prev_nz.float()).long()


class Entropy(nn.Module):
    def __init__(self):
        super().__init__()
        init = torch.tensor([2.0, 0.5, 0.5, 0.5]).view(LAYERS, 1, 1).expand(LAYERS, NCH, NCTX)
        self.log_b = nn.Parameter(torch.log(init.clone()))
        steps = (torch.tensor([114.0, 57.0, 28.5, 14.4]) / 255.0).view(LAYERS, 1).expand(LAYERS, NCH)
        self.log_step = nn.Parameter(torch.log(steps.clone()))
        # logit of P(a block's plane has a non-zero integer in this layer) per (layer, plane,
        # flag context): left flag + 2 * upper flag (+ 4 * lower layers non-zero, layer >= 1)
        self.flag_logit = nn.Parameter(torch.zeros(LAYERS, len(GROUPS), NFCTX))
        # Channel-group layers (the alternative of docs/MODEL.md's comparison): a (LAYERS, NCH)
        # 0/1 tensor; layer l then codes only its band's channels, once (no refinements).
        self.bands = None

    def steps(self):
        return torch.exp(self.log_step)

    def flags(self, qi, prev_nz, l):
        """Coded-block flags of layer l: per position and plane, whether any integer of that
        plane's channels is non-zero. Returns the per-integer mask of coded blocks and the flags'
        bits (B,). Integers of uncoded blocks are not sent (all zero)."""
        coded = torch.zeros_like(qi)
        fbits = torch.zeros(qi.shape[0], device=qi.device)
        for g, (s0, e0) in enumerate(GROUPS):
            f = (qi[:, s0:e0] != 0).any(1, keepdim=True).float()
            ctx = _shift(f, 0, 1) + 2 * _shift(f, 1, 0)
            if l > 0:
                ctx = ctx + 4 * prev_nz[:, s0:e0].any(1, keepdim=True).float()
            logit = self.flag_logit[l, g][ctx.long()]
            lp = F.logsigmoid(torch.where(f > 0, logit, -logit))
            fbits = fbits - lp.sum(dim=(1, 2, 3)) / math.log(2)
            coded[:, s0:e0] = f.expand(-1, e0 - s0, -1, -1)
        return coded, fbits

    def quantize(self, y, training, intra):
        """[(yhat_l, bits_l (B,))] for l = 1..LAYERS."""
        steps = self.steps()
        out = []
        prev = torch.zeros_like(y)
        prev_nz = torch.zeros_like(y, dtype=torch.bool)
        for l in range(LAYERS):
            s = steps[l].view(1, -1, 1, 1)
            r = (y - prev) / s
            band = 1.0 if self.bands is None else self.bands[l].view(1, -1, 1, 1)
            r = r * band
            qi = dz_round(r, DEADZONE[l]).detach()
            qn = (r + torch.empty_like(r).uniform_(-0.5, 0.5)) * band if training else qi
            ctx = contexts(qi, prev_nz, l)
            b = torch.exp(self.log_b[l])                                # (96, 16)
            bsel = torch.gather(b.unsqueeze(0).unsqueeze(-1).expand(y.shape[0], -1, -1, y.shape[2] * y.shape[3]),
                                2, ctx.view(y.shape[0], NCH, 1, -1)).view_as(y)
            mu = torch.zeros_like(y)
            if intra and l == 0:
                mp = med_pred(qi)
                for c in DC:
                    mu[:, c] = mp[:, c]
            coded, fbits = self.flags(qi, prev_nz, l)
            coded = coded * band

            def code_bits(vals, b):
                v = vals - mu
                p = laplace_cdf(v + 0.5, b) - laplace_cdf(v - 0.5, b)
                return (-torch.log2(p.clamp_min(1e-9)) * coded).sum(dim=(1, 2, 3))
            # Training: the noisy proxy (as before the dead zone). Fitting the entropy model's
            # scales to the dead-zone integers instead made the proxy see too peaked a
            # distribution: the intra prototype (proto.py, lr 1e-3) collapsed to 24 dB.
            bits = code_bits(qn, bsel) + fbits
            q = r + (qi - r).detach()
            yhat = prev + q * s
            out.append((yhat, bits))
            prev_nz = prev_nz | (qi != 0)
            prev = yhat
        return out


class Codec(nn.Module):
    def __init__(self, inter):
        super().__init__()
        self.inter = inter
        self.ana = Analysis(inter)
        self.syn = Synthesis()
        self.rest = Restore(inter)
        self.ent = Entropy()

    def macs_per_luma_pixel(self):
        return 9 * NCH * NCH / 64 + self.rest.macs()

    def encode(self, Y, U, V, pred=None, training=False):
        x = to_coef_grid(Y, U, V)
        pg = to_coef_grid(*pred) if self.inter else None
        r = x - pg if self.inter else x - 0.5
        y = self.ana(r, pg)
        return self.ent.quantize(y, training, not self.inter)

    def decode(self, yhat, k, d, pred=None):
        g = self.syn(yhat)
        Y, U, V = from_coef_grid(g)
        if self.inter:
            Y, U, V = Y + pred[0], U + pred[1], V + pred[2]
        else:
            Y, U, V = Y + 0.5, U + 0.5, V + 0.5
        xq = to_q(Y, U, V)
        pq = to_q(*pred) if self.inter else None
        return from_q(self.rest(xq, k, d, pq))


def channel_bands():
    """Channel groups by zig-zag frequency for the comparison of docs/MODEL.md: Y channels
    [0,3) [3,10) [10,28) [28,64), U and V [0,1) [1,3) [3,7) [7,16) per layer."""
    b = torch.zeros(LAYERS, NCH)
    for (s0, e0), cuts in (((0, 64), (0, 3, 10, 28, 64)), ((64, 80), (0, 1, 3, 7, 16)), ((80, 96), (0, 1, 3, 7, 16))):
        for l in range(LAYERS):
            b[l, s0 + cuts[l]:s0 + cuts[l + 1]] = 1
    return b
