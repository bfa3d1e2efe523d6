"""Training windows for the codec: 9 consecutive frames (a sub-GOP of 8) cropped from the train
clips, with the block vectors of docs/MOTION.md for every reference pair a training chain uses.

Chains (reference distance per step, each step referencing the previous step's frame):
  (8, 4, 2, 1): 0 -> 8 -> 4 -> 2 -> 1
  (4, 2, 1):    0 -> 4 -> 2 -> 1
  (2, 1):       0 -> 2 -> 1
B-chains (bitstream version 3: both anchors intra, every other frame bi-predicted from the
frames on either side, as the LFR tree with intra anchors decodes them):
  0 (I), 8 (I) -> 4 from (0, 8) -> 2 from (0, 4) -> 1 from (0, 2)
their forward/backward vectors are PAIRS entries plus (1, 0) (the add-on pool of
build_bi) and their per-block modes are motion.block_modes on the original crops.
Vectors are searched on the original crops (as the encoder searches originals); the trainer
compensates the *decoded* reference with them, as the player does.
"""
import os
import time

import numpy as np

import glob

import motion
from y4m import Y4M

# (current, reference) frame pairs inside a window, and the chains built from them.
PAIRS = ((8, 0), (4, 0), (2, 0), (4, 8), (2, 4), (1, 2))
CHAINS = (
    ((0, 3, 4, 5), (3, 2, 1, 0)),   # pair indices, distance classes
    ((1, 4, 5), (2, 1, 0)),
    ((2, 5), (1, 0)),
)

# B-chain steps: (current, past, future, forward pair, backward pair, distance class); the
# forward pair 6 is (1, 0), in the add-on pool.
BCHAIN = ((4, 0, 8, 1, 3, 2), (2, 0, 4, 2, 4, 1), (1, 0, 2, 6, 5, 0))



def _clips(y4m_dir):
    paths = sorted(glob.glob(os.path.join(y4m_dir, "*.y4m")))
    if not paths:
        raise SystemExit(f"no .y4m files in {y4m_dir}: run ../shared/media/to-y4m.sh first")
    return [Y4M(p) for p in paths]


def _weights(clips):
    # Larger and longer clips give more distinct crops, but no clip should dominate.
    w = np.array([np.sqrt(c.frames * c.width * c.height) for c in clips])
    return w / w.sum()


def build_bi(pool, log=print):
    """The add-on for B-chains over an existing pool: vectors of (1, 0) and the modes of the
    three B-frames of BCHAIN. Returns dict(mv10=(n, nb, nb, 2) int16, modes=(n, 3, nb, nb) uint8)."""
    Y = pool["y"]
    n, _, crop, _ = Y.shape
    nb = crop // 16
    bys, bxs = np.meshgrid(np.arange(0, crop, 16), np.arange(0, crop, 16), indexing="ij")
    mv10 = np.zeros((n, nb, nb, 2), np.int16)
    modes = np.zeros((n, len(BCHAIN), nb, nb), np.uint8)
    t0 = time.time()
    for i in range(n):
        mv10[i] = motion.search(Y[i, 1], Y[i, 0], bys.ravel(), bxs.ravel()).reshape(nb, nb, 2)
        for j, (cur, past, fut, fp, bp, _) in enumerate(BCHAIN):
            mvf = mv10[i] if fp == 6 else pool["mv"][i, fp]
            modes[i, j] = motion.block_modes(Y[i, cur], Y[i, past], Y[i, fut], mvf, pool["mv"][i, bp])
        if (i + 1) % 500 == 0:
            log(f"pool (B add-on): {i + 1}/{n} windows ({time.time() - t0:.0f} s)")
    return dict(mv10=mv10, modes=modes)


def load_or_build_bi(path, pool, log=print):
    if os.path.exists(path):
        z = np.load(path)
        if z["modes"].shape[0] == len(pool["y"]):
            return {k: z[k] for k in z.files}
    add = build_bi(pool, log)
    np.savez(path, **add)
    return add


def build_pool(y4m_dir, n, crop, seed, log=print, stride=1):
    """n windows of 9 frames, stride frames apart (stride 2: a 16-frame span, the distances
    8, 4, 2 of a sub-GOP of 16; stride 4: 32 frames, distances 16, 8, 4 of a sub-GOP of 32)."""
    rng = np.random.default_rng(seed)
    span = 8 * stride + 1
    clips = [c for c in _clips(y4m_dir) if c.frames >= span and min(c.width, c.height) >= crop]
    w = _weights(clips)
    Y = np.zeros((n, 9, crop, crop), np.uint8)
    U = np.zeros((n, 9, crop // 2, crop // 2), np.uint8)
    V = np.zeros_like(U)
    nb = crop // 16
    MV = np.zeros((n, len(PAIRS), nb, nb, 2), np.int16)
    bys, bxs = np.meshgrid(np.arange(0, crop, 16), np.arange(0, crop, 16), indexing="ij")
    t0 = time.time()
    for i in range(n):
        c = clips[rng.choice(len(clips), p=w)]
        start = int(rng.integers(0, c.frames - span + 1))
        order = range(start, start + span, stride)
        if rng.random() < 0.5:  # references come from both directions in a sub-GOP tree
            order = reversed(list(order))
        oy = int(rng.integers(0, (c.height - crop) // 2 + 1)) * 2
        ox = int(rng.integers(0, (c.width - crop) // 2 + 1)) * 2
        for j, t in enumerate(order):
            y, u, v = c.frame(t)
            Y[i, j] = y[oy:oy + crop, ox:ox + crop]
            U[i, j] = u[oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
            V[i, j] = v[oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
        for p, (cur, ref) in enumerate(PAIRS):
            mv = motion.search(Y[i, cur], Y[i, ref], bys.ravel(), bxs.ravel())
            MV[i, p] = mv.reshape(nb, nb, 2)
        if (i + 1) % 250 == 0:
            log(f"pool: {i + 1}/{n} windows ({time.time() - t0:.0f} s)")
    return dict(y=Y, u=U, v=V, mv=MV)


def load_or_build(path, y4m_dir, n, crop, seed, log=print, stride=1):
    if os.path.exists(path):
        z = np.load(path)
        if z["y"].shape == (n, 9, crop, crop):
            return {k: z[k] for k in z.files}
    pool = build_pool(y4m_dir, n, crop, seed, log, stride)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    np.savez(path, **pool)
    return pool
