package encoder

import (
	"fmt"

	"github.com/strata-player/strata/decoder"
)

// plane is an 8-bit picture with an edge-replicated margin of m samples on every side, so
// reads up to m outside the picture need no clamping (docs/MOTION.md clamps every read).
type plane struct {
	w, h, m, stride int
	pix             []byte
}

// row is the run of n samples starting at (y, x), which may lie in the margin.
func (p *plane) row(y, x, n int) []byte {
	o := (y+p.m)*p.stride + x + p.m
	return p.pix[o : o+n]
}

// block is the samples from (y, x) to the end of the h×w block's last row (rows stride
// apart), bounds-checked here so the kernels may read the block through its first byte.
func (p *plane) block(y, x, h, w int) []byte {
	o := (y+p.m)*p.stride + x + p.m
	return p.pix[o : o+(h-1)*p.stride+w]
}

func newPlane(src []byte, w, h, m int) plane {
	p := plane{w: w, h: h, m: m, stride: w + 2*m, pix: make([]byte, (w+2*m)*(h+2*m))}
	for y := -m; y < h+m; y++ {
		sy := min(max(y, 0), h-1)
		r := p.row(y, -m, p.stride)
		for x := -m; x < w+m; x++ {
			sx := min(max(x, 0), w-1)
			r[x+m] = src[sy*w+sx]
		}
	}
	return p
}

// down2 is one pyramid reduction: (a + b + c + d + 2) >> 2 per 2×2 cell.
func down2(src []byte, w, h int) []byte {
	out := make([]byte, (w/2)*(h/2))
	for y := 0; y < h/2; y++ {
		r0, r1 := src[2*y*w:], src[(2*y+1)*w:]
		for x := 0; x < w/2; x++ {
			out[y*(w/2)+x] = byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
		}
	}
	return out
}

// Pyramid is a frame's luma at levels 0, 1, 2 with margins wide enough for the search.
type Pyramid struct {
	l [3]plane
}

// Margins: level 2 reads ±8 around 4×4 blocks, level 1 ±16, level 0 ±32 plus one sample
// for half-pel interpolation.
var margins = [3]int{40, 24, 16}

// NewPyramid builds the search pyramid of a luma plane whose sides are multiples of 16.
func NewPyramid(y []byte, w, h int) (*Pyramid, error) {
	if w <= 0 || h <= 0 || w%16 != 0 || h%16 != 0 || len(y) != w*h {
		return nil, fmt.Errorf("motion: luma %dx%d (%d bytes) must have sides that are multiples of 16", w, h, len(y))
	}
	p := &Pyramid{}
	l1 := down2(y, w, h)
	l2 := down2(l1, w/2, h/2)
	p.l[0] = newPlane(y, w, h, margins[0])
	p.l[1] = newPlane(l1, w/2, h/2, margins[1])
	p.l[2] = newPlane(l2, w/4, h/4, margins[2])
	return p, nil
}

// cand tracks the best candidate by (SAD, |dy|+|dx|); scan order breaks the rest of the
// ties because candidates are offered in scan order and only strictly better ones win.
type cand struct{ sad, cost, dy, dx int }

func (c *cand) offer(sad, dy, dx int) {
	cost := abs(dy) + abs(dx)
	if sad < c.sad || (sad == c.sad && cost < c.cost) {
		*c = cand{sad, cost, dy, dx}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sad(cur, ref *plane, cy, cx, ry, rx, n int) int {
	if asmSAD {
		a, b := cur.block(cy, cx, n, n), ref.block(ry, rx, n, n)
		return sadBlock(&a[0], cur.stride, &b[0], ref.stride, n)
	}
	return sadPortable(cur, ref, cy, cx, ry, rx, n)
}

// sadPortable is sad in plain Go (the reference of the SSE2 kernel).
func sadPortable(cur, ref *plane, cy, cx, ry, rx, n int) int {
	s := 0
	for y := 0; y < n; y++ {
		a := cur.row(cy+y, cx, n)
		b := ref.row(ry+y, rx, n)
		for x, v := range a {
			d := int(v) - int(b[x])
			if d < 0 {
				d = -d
			}
			s += d
		}
	}
	return s
}

// halfSAD is the SAD of the current 16×16 block against the reference interpolated at the
// half-pel vector (hy, hx).
func halfSAD(cur, ref *plane, by, bx, hy, hx int) int {
	iy, fy := hy>>1, hy&1
	ix, fx := hx>>1, hx&1
	if asmSAD {
		a, r := cur.block(by, bx, 16, 16), ref.block(by+iy, bx+ix, 17, 17)
		if fx == 0 && fy == 0 {
			return sadBlock(&a[0], cur.stride, &r[0], ref.stride, 16)
		}
		return sadHalf16(&a[0], cur.stride, &r[0], ref.stride, fx, fy)
	}
	return halfSADPortable(cur, ref, by, bx, hy, hx)
}

// halfSADPortable is halfSAD in plain Go (the reference of the SSE2 kernel).
func halfSADPortable(cur, ref *plane, by, bx, hy, hx int) int {
	iy, fy := hy>>1, hy&1
	ix, fx := hx>>1, hx&1
	w00, w01, w10, w11 := (2-fx)*(2-fy), fx*(2-fy), (2-fx)*fy, fx*fy
	s := 0
	for y := 0; y < 16; y++ {
		a := cur.row(by+y, bx, 16)
		r0 := ref.row(by+iy+y, bx+ix, 17)
		r1 := ref.row(by+iy+y+1, bx+ix, 17)
		for x, v := range a {
			p := (w00*int(r0[x]) + w01*int(r0[x+1]) + w10*int(r1[x]) + w11*int(r1[x+1]) + 2) >> 2
			d := int(v) - p
			if d < 0 {
				d = -d
			}
			s += d
		}
	}
	return s
}

// searchBlock is docs/MOTION.md's search for the block at luma (by, bx).
func searchBlock(cur, ref *Pyramid, by, bx int) decoder.MV {
	c2, r2 := &cur.l[2], &ref.l[2]
	best := cand{sad: 1 << 60}
	for dy := -8; dy <= 8; dy++ {
		for dx := -8; dx <= 8; dx++ {
			best.offer(sad(c2, r2, by>>2, bx>>2, (by>>2)+dy, (bx>>2)+dx, 4), dy, dx)
		}
	}
	vy, vx := best.dy, best.dx
	for lvl := 1; lvl >= 0; lvl-- {
		c, r := &cur.l[lvl], &ref.l[lvl]
		n, lim := 16>>lvl, 32>>lvl
		y0, x0 := by>>lvl, bx>>lvl
		best = cand{sad: 1 << 60}
		for dy := 2*vy - 2; dy <= 2*vy+2; dy++ {
			for dx := 2*vx - 2; dx <= 2*vx+2; dx++ {
				if abs(dy) > lim || abs(dx) > lim {
					continue
				}
				best.offer(sad(c, r, y0, x0, y0+dy, x0+dx, n), dy, dx)
			}
		}
		vy, vx = best.dy, best.dx
	}
	best = cand{sad: 1 << 60}
	for hy := 2*vy - 1; hy <= 2*vy+1; hy++ {
		for hx := 2*vx - 1; hx <= 2*vx+1; hx++ {
			if abs(hy) > decoder.MVLimit || abs(hx) > decoder.MVLimit {
				continue
			}
			best.offer(halfSAD(&cur.l[0], &ref.l[0], by, bx, hy, hx), hy, hx)
		}
	}
	return decoder.MV{Y: best.dy, X: best.dx}
}

// Search returns one half-pel vector per 16×16 block of cur (raster order), searched in
// ref, both pyramids of frames of the same size. Block rows run in parallel on workers
// goroutines (at least 1).
func Search(cur, ref *Pyramid, workers int) ([]decoder.MV, error) {
	w, h := cur.l[0].w, cur.l[0].h
	if ref.l[0].w != w || ref.l[0].h != h {
		return nil, fmt.Errorf("motion: frames %dx%d and %dx%d differ in size", w, h, ref.l[0].w, ref.l[0].h)
	}
	bw, bh := w/16, h/16
	out := make([]decoder.MV, bw*bh)
	rows := make(chan int)
	done := make(chan struct{})
	workers = max(1, min(workers, bh))
	for i := 0; i < workers; i++ {
		go func() {
			for by := range rows {
				for bx := 0; bx < bw; bx++ {
					out[by*bw+bx] = searchBlock(cur, ref, by*16, bx*16)
				}
			}
			done <- struct{}{}
		}()
	}
	for by := 0; by < bh; by++ {
		rows <- by
	}
	close(rows)
	for i := 0; i < workers; i++ {
		<-done
	}
	return out, nil
}

// mvBits approximates the vector code's cost in bits of a difference from the prediction
// (docs/BITSTREAM.md: zero flag, sign, unary magnitude), per component.
func mvBits(d decoder.MV) int {
	b := 0
	for _, c := range [2]int{d.Y, d.X} {
		b++
		if c != 0 {
			b += 1 + min(abs(c), 16)
		}
	}
	return b
}

// SmoothRD chooses, in raster order, each vector of mvs (cur's blocks searched in ref)
// among the searched vector, its median prediction and their 8-neighbours by
// SAD + lambda · bits (mvBits of the difference from the prediction).
func SmoothRD(cur, ref *Pyramid, mvs []decoder.MV, lambda int) {
	bw := cur.l[0].w / 16
	for i, v := range mvs {
		p := decoder.MVPredict(mvs, bw, i%bw, i/bw)
		by, bx := i/bw*16, i%bw*16
		best, bj := v, 1<<62
		try := func(c decoder.MV) {
			if abs(c.Y) > decoder.MVLimit || abs(c.X) > decoder.MVLimit {
				return
			}
			j := halfSAD(&cur.l[0], &ref.l[0], by, bx, c.Y, c.X) + lambda*mvBits(decoder.MV{Y: c.Y - p.Y, X: c.X - p.X})
			if j < bj {
				best, bj = c, j
			}
		}
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				try(decoder.MV{Y: v.Y + dy, X: v.X + dx})
				try(decoder.MV{Y: p.Y + dy, X: p.X + dx})
			}
		}
		mvs[i] = best
	}
}
