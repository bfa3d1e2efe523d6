"""Block motion search and compensation, exactly as specified in docs/MOTION.md.

The Go encoder implements the same algorithm; this module is its reference for training
(P-frames are trained on the predictions this search produces on original frames).
All arithmetic is integer, so both implementations agree bit for bit.
"""
import numpy as np

BLOCK = 16
RANGE = 32  # full-pel search range in luma pixels


def pad16(y, u, v):
    """Edge-replicate a frame so luma is a multiple of 16 in both directions."""
    h, w = y.shape
    ph, pw = (-h) % 16, (-w) % 16
    if ph or pw:
        y = np.pad(y, ((0, ph), (0, pw)), mode="edge")
        u = np.pad(u, ((0, ph // 2), (0, pw // 2)), mode="edge")
        v = np.pad(v, ((0, ph // 2), (0, pw // 2)), mode="edge")
    return y, u, v


def down2(a):
    a = a.astype(np.int32)
    return (a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2] + 2) >> 2


def _region(p, y0, x0, h, w):
    """p[y0:y0+h, x0:x0+w] with coordinates clamped to the plane (edge replication)."""
    H, W = p.shape
    ys = np.clip(np.arange(y0, y0 + h), 0, H - 1)
    xs = np.clip(np.arange(x0, x0 + w), 0, W - 1)
    return p[np.ix_(ys, xs)]


def interp(p, y0, x0, h, w, mvy, mvx, n):
    """Block of h x w at integer (y0, x0) displaced by (mvy, mvx) in 1/n pel, bilinear, integer.

    value = ((n-fx)(n-fy)A + fx(n-fy)B + (n-fx)fy C + fx fy D + n*n/2) // (n*n)
    """
    iy, fy = divmod(mvy, n)
    ix, fx = divmod(mvx, n)
    a = _region(p, y0 + iy, x0 + ix, h + 1, w + 1).astype(np.int32)
    A, B, C, D = a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]
    s = (n - fx) * (n - fy) * A + fx * (n - fy) * B + (n - fx) * fy * C + fx * fy * D
    return (s + n * n // 2) // (n * n)


def _gather(p, ys, xs):
    """p[ys[..., :, None], xs[..., None, :]] with coordinates clamped to the plane."""
    H, W = p.shape
    ys = np.clip(ys, 0, H - 1)
    xs = np.clip(xs, 0, W - 1)
    return p[ys[..., :, None], xs[..., None, :]]


def _pick(sad, dy, dx, valid):
    """Per block, the candidate with the lowest SAD, then the smallest |dy|+|dx|, then the
    first in scan order (dy outer, dx inner, ascending)."""
    nc = sad.shape[1]
    key = sad.astype(np.int64) * (1 << 24) + (np.abs(dy) + np.abs(dx)) * (1 << 12) + np.arange(nc)[None, :]
    key = np.where(valid, key, np.int64(1) << 62)
    j = np.argmin(key, axis=1)
    rows = np.arange(sad.shape[0])
    return dy[rows, j], dx[rows, j]


def _int_sads(c, r, y0, x0, size, dy, dx):
    ar = np.arange(size)
    cur = c[(y0[:, None] + ar)[:, :, None], (x0[:, None] + ar)[:, None, :]][:, None]
    ref = _gather(r, y0[:, None, None] + dy[:, :, None] + ar, x0[:, None, None] + dx[:, :, None] + ar)
    return np.abs(ref - cur).sum(axis=(2, 3))


def _half_sads(c, r, y0, x0, hy, hx):
    ar = np.arange(16)
    cur = c[(y0[:, None] + ar)[:, :, None], (x0[:, None] + ar)[:, None, :]][:, None]
    iy, fy = np.divmod(hy, 2)
    ix, fx = np.divmod(hx, 2)
    ys = y0[:, None, None] + iy[:, :, None] + np.arange(17)
    xs = x0[:, None, None] + ix[:, :, None] + np.arange(17)
    a = _gather(r, ys, xs)
    fy, fx = fy[:, :, None, None], fx[:, :, None, None]
    s = ((2 - fx) * (2 - fy) * a[..., :-1, :-1] + fx * (2 - fy) * a[..., :-1, 1:]
         + (2 - fx) * fy * a[..., 1:, :-1] + fx * fy * a[..., 1:, 1:])
    pred = (s + 2) // 4
    return np.abs(pred - cur).sum(axis=(2, 3))


def _grid(cy, cx, rad):
    """Candidates center +- rad per block, in scan order: arrays (nb, (2rad+1)^2)."""
    off = np.arange(-rad, rad + 1)
    oy, ox = np.meshgrid(off, off, indexing="ij")
    return cy[:, None] + oy.ravel()[None, :], cx[:, None] + ox.ravel()[None, :]


def search(cur, ref, bys, bxs):
    """Half-pel motion vectors (in half-pel units) for the 16x16 luma blocks at (bys[i], bxs[i]).

    cur, ref: padded luma planes (uint8). Returns int array (n, 2) of (mvy, mvx) half-pel.
    """
    bys = np.asarray(bys, dtype=np.int64)
    bxs = np.asarray(bxs, dtype=np.int64)
    c0, r0 = cur.astype(np.int32), ref.astype(np.int32)
    c1, r1 = down2(c0), down2(r0)
    c2, r2 = down2(c1), down2(r1)
    zero = np.zeros_like(bys)
    # Level 2 (1/4 resolution, 4x4 blocks): full search +-8.
    dy, dx = _grid(zero, zero, 8)
    sad = _int_sads(c2, r2, bys >> 2, bxs >> 2, 4, dy, dx)
    vy, vx = _pick(sad, dy, dx, np.ones_like(sad, dtype=bool))
    # Levels 1 and 0: refine +-2 around the doubled vector, clamped to the range.
    for lvl, c, r, size, lim in ((1, c1, r1, 8, RANGE // 2), (0, c0, r0, 16, RANGE)):
        dy, dx = _grid(2 * vy, 2 * vx, 2)
        valid = (np.abs(dy) <= lim) & (np.abs(dx) <= lim)
        sad = _int_sads(c, r, bys >> lvl, bxs >> lvl, size, dy, dx)
        vy, vx = _pick(sad, dy, dx, valid)
    # Half-pel: the 3x3 neighbourhood of 2v in half-pel units.
    hy, hx = _grid(2 * vy, 2 * vx, 1)
    valid = (np.abs(hy) <= 2 * RANGE) & (np.abs(hx) <= 2 * RANGE)
    sad = _half_sads(c0, r0, bys, bxs, hy, hx)
    my, mx = _pick(sad, hy, hx, valid)
    return np.stack([my, mx], axis=1)


def compensate(ref, by, bx, mv):
    """Predicted (Y 16x16, U 8x8, V 8x8) for the block at luma (by, bx) with half-pel mv."""
    ry, ru, rv = ref
    py = interp(ry, by, bx, 16, 16, int(mv[0]), int(mv[1]), 2)
    pu = interp(ru, by // 2, bx // 2, 8, 8, int(mv[0]), int(mv[1]), 4)
    pv = interp(rv, by // 2, bx // 2, 8, 8, int(mv[0]), int(mv[1]), 4)
    return py, pu, pv


# Overlapped block motion compensation (docs/MOTION.md): own-block weight (of 16) by
# position inside a 16x16 luma / 8x8 chroma block; the rest goes to the neighbouring block on
# the nearer side (the same block at the frame's edge). Separable: a pixel blends the four
# predictions (own/neighbour row block x own/neighbour column block) with weights wy*wx / 256.
OBMC_W16 = (10, 12, 14, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 12, 10)
OBMC_W8 = (10, 14, 16, 16, 16, 16, 14, 10)


def _bilinear_plane(p, fy, fx, n):
    """Whole-plane bilinear sample at (y + fy/n, x + fx/n) per pixel (fy, fx: int arrays of the
    plane's shape), edge replication, integer rounding as interp()."""
    H, W = p.shape
    iy, ry = np.divmod(fy, n)
    ix, rx = np.divmod(fx, n)
    ys = np.arange(H)[:, None] + iy
    xs = np.arange(W)[None, :] + ix
    g = lambda yy, xx: p[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)].astype(np.int64)  # noqa: E731
    A, B, C, D = g(ys, xs), g(ys, xs + 1), g(ys + 1, xs), g(ys + 1, xs + 1)
    s = (n - rx) * (n - ry) * A + rx * (n - ry) * B + (n - rx) * ry * C + rx * ry * D
    return (s + n * n // 2) // (n * n)


def obmc(ref, mv):
    """Integer OBMC prediction (Y, U, V uint8) from a padded reference frame (Y, U, V uint8).
    mv: (nby, nbx, 2) half-pel (y, x) per 16x16 luma block."""
    return obmc_bi(ref, None, mv, None, None)


# Bi-prediction (bitstream version 3; docs/MOTION.md "Bi-prediction"): a frame with
# a reference on each side (the LFR tree's past and future frames) has, per 16x16 block, a
# mode and a vector into each reference. Modes: 0 forward (past reference only), 1 backward
# (future reference only), 2 both: (forward + backward + 1) >> 1.
FWD, BWD, BI = 0, 1, 2


def block_modes(cur, past, fut, mvf, mvb):
    """Per 16x16 block the mode of docs/MOTION.md: luma SADs of the plain (non-overlapped)
    block compensations on original frames; a one-sided mode wins only when its SAD is below
    7/8 of the bi-predicted SAD (averaging two decoded references also averages their coding
    noise), forward before backward on ties. cur, past, fut: padded luma (uint8); mvf, mvb:
    (nby, nbx, 2) half-pel vectors. Returns uint8 (nby, nbx)."""
    nby, nbx, _ = mvf.shape
    out = np.zeros((nby, nbx), np.uint8)
    c = cur.astype(np.int32)
    for i in range(nby):
        for j in range(nbx):
            y0, x0 = 16 * i, 16 * j
            blk = c[y0:y0 + 16, x0:x0 + 16]
            pf = interp(past, y0, x0, 16, 16, int(mvf[i, j, 0]), int(mvf[i, j, 1]), 2)
            pb = interp(fut, y0, x0, 16, 16, int(mvb[i, j, 0]), int(mvb[i, j, 1]), 2)
            sf = int(np.abs(pf - blk).sum())
            sb = int(np.abs(pb - blk).sum())
            sa = int(np.abs(((pf + pb + 1) >> 1) - blk).sum())
            m = BI
            best = 7 * sa
            if 8 * sf < best:
                m, best = FWD, 8 * sf
            if 8 * sb < best:
                m = BWD
            out[i, j] = m
    return out


def obmc_bi(past, fut, mvf, mvb, modes):
    """Integer OBMC bi-prediction (Y, U, V uint8): each pixel blends the compensated values of
    four blocks (its own and its neighbours on the nearer sides), each block's value forward,
    backward or averaged by its mode. fut is None (mvb, modes too) for one reference: obmc()."""
    nby, nbx, _ = mvf.shape
    out = []
    for pi, bs, w, n in ((0, 16, OBMC_W16, 2), (1, 8, OBMC_W8, 4), (2, 8, OBMC_W8, 4)):
        H, W = past[pi].shape
        def tables(nb, size):
            pos = np.arange(size)
            own = pos // bs
            off = pos % bs
            nbr = np.clip(np.where(off < bs // 2, own - 1, own + 1), 0, nb - 1)
            return own, nbr, np.array(w)[off]
        oy, ny, wy = tables(nby, H)
        ox, nx, wx = tables(nbx, W)
        acc = np.zeros((H, W), np.int64)
        for yi, wyy in ((oy, wy), (ny, 16 - wy)):
            for xi, wxx in ((ox, wx), (nx, 16 - wx)):
                ff = mvf[yi][:, xi]                                     # (H, W, 2)
                v = _bilinear_plane(past[pi], ff[..., 0].astype(np.int64), ff[..., 1].astype(np.int64), n)
                if fut is not None:
                    fb, mm = mvb[yi][:, xi], modes[yi][:, xi]
                    b = _bilinear_plane(fut[pi], fb[..., 0].astype(np.int64), fb[..., 1].astype(np.int64), n)
                    v = np.where(mm == FWD, v, np.where(mm == BWD, b, (v + b + 1) >> 1))
                acc += v * (wyy[:, None] * wxx[None, :])
        out.append(((acc + 128) >> 8).astype(np.uint8))
    return tuple(out)
