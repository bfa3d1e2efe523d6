"""Prediction quality of motion tools on original frames (the measurement behind the codec's
bi-prediction, docs/MOTION.md): PSNR-Y of the OBMC prediction with one reference (bilinear
half-pel), the average of forward and backward predictions, the per-block best of the three
(an upper bound of block modes), and H.264's six-tap half-pel filter instead of bilinear.

    /usr/bin/python3 encoder/train/pred.py /tmp/strata-media/test/carphone_qcif.y4m 30
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motion  # noqa: E402

def read_y4m(path, n):
    f = open(path, 'rb'); hdr = f.readline().decode()
    w = int([t for t in hdr.split() if t[0]=='W'][0][1:]); h = int([t for t in hdr.split() if t[0]=='H'][0][1:])
    out = []
    for i in range(n):
        if not f.readline(): break
        y = np.frombuffer(f.read(w*h), np.uint8).reshape(h, w)
        u = np.frombuffer(f.read(w*h//4), np.uint8).reshape(h//2, w//2)
        v = np.frombuffer(f.read(w*h//4), np.uint8).reshape(h//2, w//2)
        out.append(motion.pad16(y, u, v))
    return out
def psnr(a, b):
    m = np.mean((a.astype(np.float64) - b.astype(np.float64))**2); return 10*np.log10(255**2/max(m,1e-9))
def mvs(cur, ref):
    H, W = cur[0].shape
    bys, bxs = np.meshgrid(np.arange(0, H, 16), np.arange(0, W, 16), indexing='ij')
    mv = motion.search(cur[0], ref[0], bys.ravel(), bxs.ravel())
    return mv.reshape(H//16, W//16, 2)
def up2(p):
    # correct 6-tap half-pel upsampling
    p = p.astype(np.int64); H, W = p.shape
    pp = np.pad(p, 3, mode='edge')
    t = [1,-5,20,20,-5,1]
    hx = sum(t[i]*pp[3:3+H, 1+i:1+i+W] for i in range(6))      # half in x at (y, x+0.5), unnormalised x32
    hy = sum(t[i]*pp[1+i:1+i+H, 3:3+W] for i in range(6))      # (y+0.5, x)
    hxp = np.pad(hx, ((3,3),(0,0)), mode='edge')
    hxy = sum(t[i]*hxp[1+i:1+i+H, :] for i in range(6))        # x1024
    out = np.zeros((2*H, 2*W), np.int64)
    out[0::2, 0::2] = p
    out[0::2, 1::2] = np.clip((hx+16)>>5, 0, 255)
    out[1::2, 0::2] = np.clip((hy+16)>>5, 0, 255)
    out[1::2, 1::2] = np.clip((hxy+512)>>10, 0, 255)
    return out
def obmc_up(upl, mv, bs, w, n_units_per_up):
    # OBMC using an upsampled plane (x2 here): mv in half-pel luma units => integer on up grid
    H2, W2 = upl.shape; H, W = H2//2, W2//2
    nby, nbx, _ = mv.shape
    def tables(nb, size):
        pos = np.arange(size); own = pos//bs; off = pos % bs
        nbr = np.clip(np.where(off < bs//2, own-1, own+1), 0, nb-1)
        return own, nbr, np.array(w)[off]
    oy, ny, wy = tables(nby, H); ox, nx, wx = tables(nbx, W)
    acc = np.zeros((H, W), np.int64)
    for yi, wyy in ((oy, wy), (ny, 16-wy)):
        for xi, wxx in ((ox, wx), (nx, 16-wx)):
            f = mv[yi][:, xi]
            ys = np.clip(2*np.arange(H)[:, None] + f[..., 0], 0, H2-1)
            xs = np.clip(2*np.arange(W)[None, :] + f[..., 1], 0, W2-1)
            acc += upl[ys, xs] * (wyy[:, None]*wxx[None, :])
    return (acc+128) >> 8
clip, n = sys.argv[1], int(sys.argv[2])
fr = read_y4m(clip, n)
res = {}
for d in (1, 2, 4):
    for t in range(d, len(fr)-d, max(1, (len(fr)-2*d)//6)):
        cur, past, fut = fr[t], fr[t-d], fr[t+d]
        mf = mvs(cur, past); mb = mvs(cur, fut)
        pf = motion.obmc(past, mf)[0].astype(np.int64); pb = motion.obmc(fut, mb)[0].astype(np.int64)
        avg = (pf + pb + 1) >> 1
        y = cur[0].astype(np.int64)
        # per-block choice
        H, W = y.shape
        comp = np.zeros_like(y)
        for by in range(0, H, 16):
            for bx in range(0, W, 16):
                s = [((c[by:by+16, bx:bx+16]-y[by:by+16, bx:bx+16])**2).sum() for c in (pf, pb, avg)]
                comp[by:by+16, bx:bx+16] = (pf, pb, avg)[int(np.argmin(s))][by:by+16, bx:bx+16]
        six_f = obmc_up(up2(past[0]), mf, 16, motion.OBMC_W16, 2)
        six_b = obmc_up(up2(fut[0]), mb, 16, motion.OBMC_W16, 2)
        r = res.setdefault(d, [])
        r.append((psnr(y, pf), psnr(y, avg), psnr(y, comp), psnr(y, six_f), psnr(y, (six_f+six_b+1)>>1)))
for d, r in res.items():
    a = np.mean(r, axis=0)
    print(f"{clip.split('/')[-1]} d={d}: P-bilinear {a[0]:.2f}  bi-avg {a[1]:.2f}  bi-choice {a[2]:.2f}  P-6tap {a[3]:.2f}  bi-6tap {a[4]:.2f}  (n={len(r)})")
