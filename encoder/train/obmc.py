"""Overlapped block motion compensation in PyTorch: the float training twin of the Go
decoder's OBMC (decoder/obmc.go) and of motion.obmc_bi."""
import torch
import torch.nn.functional as F

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
