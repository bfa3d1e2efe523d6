"""Training windows for codec v2: 9 consecutive frames (a sub-GOP of 8) cropped from the train
clips, with the block vectors of docs/MOTION.md for every reference pair a training chain uses.

Chains (reference distance per step, each step referencing the previous step's frame):
  (8, 4, 2, 1): 0 -> 8 -> 4 -> 2 -> 1
  (4, 2, 1):    0 -> 4 -> 2 -> 1
  (2, 1):       0 -> 2 -> 1
Vectors are searched on the original crops (as the encoder searches originals); the trainer
compensates the *decoded* reference with them, as the player does.
"""
import os
import time

import numpy as np

import motion
from data import _clips, _weights

# (current, reference) frame pairs inside a window, and the chains built from them.
PAIRS = ((8, 0), (4, 0), (2, 0), (4, 8), (2, 4), (1, 2))
CHAINS = (
    ((0, 3, 4, 5), (3, 2, 1, 0)),   # pair indices, distance classes
    ((1, 4, 5), (2, 1, 0)),
    ((2, 5), (1, 0)),
)


def build_pool(y4m_dir, n, crop, seed, log=print):
    rng = np.random.default_rng(seed)
    clips = [c for c in _clips(y4m_dir) if c.frames >= 9 and min(c.width, c.height) >= crop]
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
        start = int(rng.integers(0, c.frames - 8))
        order = range(start, start + 9)
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


def load_or_build(path, y4m_dir, n, crop, seed, log=print):
    if os.path.exists(path):
        z = np.load(path)
        if z["y"].shape == (n, 9, crop, crop):
            return {k: z[k] for k in z.files}
    pool = build_pool(y4m_dir, n, crop, seed, log)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    np.savez(path, **pool)
    return pool
