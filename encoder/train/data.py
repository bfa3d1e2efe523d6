"""Training samples from the Y4M clips: I-frame crops and motion-compensated P-frame pairs.

A pool is built once (numpy, seeded) and cached as .npz: for P samples the block motion
search of motion.py runs on the original frames, exactly as the Go encoder does.
"""
import glob
import os
import time

import numpy as np

import motion
from y4m import Y4M

DISTANCES = (1, 2, 4, 8)


def _clips(y4m_dir):
    paths = sorted(glob.glob(os.path.join(y4m_dir, "*.y4m")))
    if not paths:
        raise SystemExit(f"no .y4m files in {y4m_dir}: run ../shared/media/to-y4m.sh first")
    return [Y4M(p) for p in paths]


def _weights(clips):
    # Larger and longer clips give more distinct crops, but no clip should dominate.
    w = np.array([np.sqrt(c.frames * c.width * c.height) for c in clips])
    return w / w.sum()


def _frame(clip, i):
    return motion.pad16(*clip.frame(i))


def build_pool(y4m_dir, n_i, n_p, crop, seed, log=print):
    rng = np.random.default_rng(seed)
    clips = _clips(y4m_dir)
    w = _weights(clips)
    iy = np.zeros((n_i, crop, crop), np.uint8)
    iu = np.zeros((n_i, crop // 2, crop // 2), np.uint8)
    iv = np.zeros_like(iu)
    for n in range(n_i):
        c = clips[rng.choice(len(clips), p=w)]
        y, u, v = _frame(c, int(rng.integers(c.frames)))
        oy = int(rng.integers(0, (y.shape[0] - crop) // 2 + 1)) * 2
        ox = int(rng.integers(0, (y.shape[1] - crop) // 2 + 1)) * 2
        iy[n] = y[oy:oy + crop, ox:ox + crop]
        iu[n] = u[oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
        iv[n] = v[oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
    log(f"pool: {n_i} I crops")
    py = np.zeros((n_p, crop, crop), np.uint8)
    pu = np.zeros((n_p, crop // 2, crop // 2), np.uint8)
    pv = np.zeros_like(pu)
    qy, qu, qv = np.zeros_like(py), np.zeros_like(pu), np.zeros_like(pv)
    dcls = np.zeros(n_p, np.int64)
    t0 = time.time()
    for n in range(n_p):
        c = clips[rng.choice(len(clips), p=w)]
        k = int(rng.integers(len(DISTANCES)))
        d = DISTANCES[k]
        while d >= c.frames:
            k -= 1
            d = DISTANCES[k]
        t = int(rng.integers(d, c.frames))
        if rng.random() < 0.5:  # references come from both directions in a sub-GOP tree
            cur, ref = _frame(c, t), _frame(c, t - d)
        else:
            cur, ref = _frame(c, t - d), _frame(c, t)
        oy = int(rng.integers(0, (cur[0].shape[0] - crop) // 16 + 1)) * 16
        ox = int(rng.integers(0, (cur[0].shape[1] - crop) // 16 + 1)) * 16
        bys, bxs = np.meshgrid(np.arange(oy, oy + crop, 16), np.arange(ox, ox + crop, 16), indexing="ij")
        mvs = motion.search(cur[0], ref[0], bys.ravel(), bxs.ravel())
        for j, (by, bx) in enumerate(zip(bys.ravel(), bxs.ravel())):
            a, b, cc = motion.compensate(ref, by, bx, mvs[j])
            ly, lx = by - oy, bx - ox
            qy[n, ly:ly + 16, lx:lx + 16] = a
            qu[n, ly // 2:ly // 2 + 8, lx // 2:lx // 2 + 8] = b
            qv[n, ly // 2:ly // 2 + 8, lx // 2:lx // 2 + 8] = cc
        py[n] = cur[0][oy:oy + crop, ox:ox + crop]
        pu[n] = cur[1][oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
        pv[n] = cur[2][oy // 2:(oy + crop) // 2, ox // 2:(ox + crop) // 2]
        dcls[n] = k
        if (n + 1) % 500 == 0:
            log(f"pool: {n + 1}/{n_p} P pairs ({time.time() - t0:.0f} s)")
    return dict(iy=iy, iu=iu, iv=iv, py=py, pu=pu, pv=pv, qy=qy, qu=qu, qv=qv, dcls=dcls)


def load_or_build(path, y4m_dir, n_i, n_p, crop, seed, log=print):
    if os.path.exists(path):
        z = np.load(path)
        if z["iy"].shape == (n_i, crop, crop) and z["py"].shape[0] == n_p:
            return {k: z[k] for k in z.files}
    pool = build_pool(y4m_dir, n_i, n_p, crop, seed, log)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    np.savez(path, **pool)
    return pool
