"""Y4M (YUV4MPEG2, 8-bit 4:2:0) reader with random frame access via a memory map."""
import mmap

import numpy as np


class Y4M:
    """Random access to the frames of an 8-bit 4:2:0 Y4M file.

    frame(i) returns (Y, U, V) as uint8 arrays of shapes (H, W), (H/2, W/2), (H/2, W/2).
    """

    def __init__(self, path):
        self.path = path
        f = open(path, "rb")
        self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        f.close()
        end = self._mm.find(b"\n")
        if end < 0 or not self._mm[:9] == b"YUV4MPEG2":
            raise ValueError(f"{path}: not a YUV4MPEG2 file")
        header = self._mm[:end].decode("ascii").split()
        self.width = self.height = 0
        colorspace = "420"
        for tok in header[1:]:
            if tok[0] == "W":
                self.width = int(tok[1:])
            elif tok[0] == "H":
                self.height = int(tok[1:])
            elif tok[0] == "C":
                colorspace = tok[1:]
        if not colorspace.startswith("420"):
            raise ValueError(f"{path}: colour space C{colorspace}, want 4:2:0")
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"{path}: bad size {self.width}x{self.height}")
        self.frame_bytes = self.width * self.height * 3 // 2
        self.offsets = []
        pos = end + 1
        n = len(self._mm)
        while pos < n:
            nl = self._mm.find(b"\n", pos)
            if nl < 0 or self._mm[pos:pos + 5] != b"FRAME":
                raise ValueError(f"{path}: bad frame header at byte {pos}")
            start = nl + 1
            if start + self.frame_bytes > n:
                raise ValueError(f"{path}: truncated frame {len(self.offsets)}")
            self.offsets.append(start)
            pos = start + self.frame_bytes
        self.frames = len(self.offsets)

    def frame(self, i):
        w, h = self.width, self.height
        buf = np.frombuffer(self._mm, dtype=np.uint8, count=self.frame_bytes, offset=self.offsets[i])
        y = buf[: w * h].reshape(h, w)
        u = buf[w * h: w * h + w * h // 4].reshape(h // 2, w // 2)
        v = buf[w * h + w * h // 4:].reshape(h // 2, w // 2)
        return y, u, v
