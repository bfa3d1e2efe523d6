"""The layered residual autoencoder of docs/MODEL.md (Swift-style layers, single-shot decoder).

Signal: YUV 4:2:0 as 6 channels at half resolution (4 luma phases + U + V), values in [0, 1].
Codes: `bits` sign bits per 16x16 luma block per layer (a 1/8 grid of the half-res planes).
The decoder takes all K layers' code planes at once (missing layers are zeros), so its cost
does not depend on how many layers arrived; a level embedding (per-channel scale and bias
indexed by layers received and reference-distance class) follows its first 1x1 conv.
I-frames use the same network with a mid-grey prediction and their own weights.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

DCLASSES = 4  # reference distance 1, 2, 4, 8 frames -> class 0..3 (I-frames: class 0)


def pack6(y, u, v):
    """(B,1,H,W), (B,1,H/2,W/2) x2 -> (B,6,H/2,W/2): luma phases (0,0),(0,1),(1,0),(1,1), U, V."""
    return torch.cat([F.pixel_unshuffle(y, 2), u, v], dim=1)


def unpack6(x):
    return F.pixel_shuffle(x[:, :4], 2), x[:, 4:5], x[:, 5:6]


class ResBlock(nn.Module):
    def __init__(self, cin, cmid, cout):
        super().__init__()
        self.a = nn.Conv2d(cin, cmid, 3, padding=1)
        self.b = nn.Conv2d(cmid, cout, 3, padding=1)

    def forward(self, x, skip):
        return skip + self.b(F.relu(self.a(x)))


class Decoder(nn.Module):
    """Codes (B, K*bits, h/8, w/8) + prediction (B, 6, h, w) -> reconstruction (B, 6, h, w)."""

    def __init__(self, bits, layers, c16=64):
        super().__init__()
        self.bits, self.layers = bits, layers
        self.inp = nn.Conv2d(layers * bits, c16, 1)
        self.emb_scale = nn.Parameter(torch.ones(layers, DCLASSES, c16))
        self.emb_bias = nn.Parameter(torch.zeros(layers, DCLASSES, c16))
        self.rb1 = ResBlock(c16, c16, c16)
        self.up1 = nn.Conv2d(c16, 32 * 4, 1)
        self.pred1 = nn.Conv2d(6 * 16, 32, 1)
        self.rb2 = ResBlock(32, 32, 32)
        self.up2 = nn.Conv2d(32, 16 * 4, 1)
        self.rb3 = ResBlock(16 + 24, 16, 16)
        self.out = nn.Conv2d(16, 6 * 4, 1)
        # Start as the identity on the prediction, so training only has to learn refinements.
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, codes, k, d, pred):
        f = self.inp(codes)
        f = f * self.emb_scale[k - 1, d].view(1, -1, 1, 1) + self.emb_bias[k - 1, d].view(1, -1, 1, 1)
        f = F.relu(f)
        f = self.rb1(f, f)
        f = F.relu(F.pixel_shuffle(self.up1(f), 2) + self.pred1(F.pixel_unshuffle(pred, 4)))
        f = self.rb2(f, f)
        f = F.relu(F.pixel_shuffle(self.up2(f), 2))
        f = self.rb3(torch.cat([f, F.pixel_unshuffle(pred, 2)], dim=1), f)
        return F.pixel_shuffle(self.out(f), 2) + pred


class Encoder(nn.Module):
    """Residual + prediction (B, 12, h, w) -> pre-binarization code logits (B, bits, h/8, w/8)."""

    def __init__(self, bits, layers):
        super().__init__()
        self.c1 = nn.Conv2d(12, 64, 3, stride=2, padding=1)
        self.emb_scale = nn.Parameter(torch.ones(layers, DCLASSES, 64))
        self.emb_bias = nn.Parameter(torch.zeros(layers, DCLASSES, 64))
        self.c2 = nn.Conv2d(64, 96, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(96, 96, 3, stride=2, padding=1)
        self.c4 = nn.Conv2d(96, bits, 1)

    def forward(self, resid, pred, layer, d):
        f = self.c1(torch.cat([resid * 4.0, pred], dim=1))
        f = f * self.emb_scale[layer, d].view(1, -1, 1, 1) + self.emb_bias[layer, d].view(1, -1, 1, 1)
        f = F.relu(f)
        f = F.relu(self.c2(f))
        f = F.relu(self.c3(f))
        return self.c4(f)


def binarize(logits, training):
    """Sign bits in {-1, +1}; straight-through gradient of tanh while training."""
    t = torch.tanh(logits)
    hard = torch.where(t >= 0, torch.ones_like(t), -torch.ones_like(t))
    if not training:
        return hard
    return t + (hard - t).detach()


class Codec(nn.Module):
    def __init__(self, bits, layers, c16=64):
        super().__init__()
        self.bits, self.layers = bits, layers
        self.enc = Encoder(bits, layers)
        self.dec = Decoder(bits, layers, c16)

    def forward(self, x, pred, d, layers=None):
        """Runs the layer loop; returns the list of reconstructions x_hat_1..x_hat_K."""
        K = layers or self.layers
        B, _, h, w = x.shape
        zero = x.new_zeros(B, self.bits, h // 8, w // 8)
        codes = []
        xhat = pred
        outs = []
        for i in range(K):
            resid = (x - xhat).detach()
            codes.append(binarize(self.enc(resid, pred, i, d), self.training))
            full = torch.cat(codes + [zero] * (self.layers - len(codes)), dim=1)
            xhat = self.dec(full, i + 1, d, pred)
            outs.append(xhat)
        return outs


def decoder_macs_per_luma_pixel(bits, layers):
    """Multiply-accumulates of one decode, per luma pixel (see docs/MODEL.md)."""
    m = 0.0
    m += layers * bits * 64 / 256          # inp 1x1 at 1/16
    m += 2 * 9 * 64 * 64 / 256             # rb1
    m += (64 * 128) / 256 + 96 * 32 / 64   # up1 at 1/16, pred1 at 1/8
    m += 2 * 9 * 32 * 32 / 64              # rb2
    m += 32 * 64 / 64                      # up2 at 1/8
    m += (9 * 40 * 16 + 9 * 16 * 16) / 16  # rb3 at 1/4
    m += 16 * 24 / 16                      # out at 1/4
    return m
