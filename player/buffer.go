package player

import (
	"context"
	"errors"
	"sync"
)

var errSkipped = errors.New("player: segment skipped")

// segment is what the buffer holds of one segment: its units by layer (unit l present
// when units[l] != nil) and whether it was committed to decoding.
type segment struct {
	units     [][]byte
	committed bool
	skipped   bool // nothing could be fetched
	wasted    int  // upgrades that arrived after commit
}

func (s *segment) layers() int {
	n := 0
	for n < len(s.units) && s.units[n] != nil {
		n++
	}
	return n
}

// buffer is shared by the downloader (adds units) and the player (commits segments and
// moves the playhead). Its mutex exists because those two goroutines both read and write
// segment state; cond wakes the player when units arrive and the downloader when the
// playhead moves.
type buffer struct {
	mu       sync.Mutex
	cond     *sync.Cond
	segs     []segment
	layers   int
	playhead float64 // media seconds presented
	windowS  float64 // the decode window: a segment commits this long before its play time
	decoded  int     // segments 0..decoded−1 are decoded (or skipped)
	fps      float64 // the decoder's measured frames per second (0 before the first)
	done     bool    // downloader finished or failed
	fetched  int     // the fetches of segments 0..fetched−1 finished (upgrades may follow)
	err      error
	// total is the presentation's segment count, −1 while a live stream goes on (segs then
	// grows as segments are published).
	total int
}

// newBuffer holds a presentation of n segments; total is n, or −1 for a live stream of
// which n segments are known so far.
func newBuffer(n, total, layers int) *buffer {
	b := &buffer{layers: layers, total: total}
	b.cond = sync.NewCond(&b.mu)
	b.grow(n)
	return b
}

// grow makes room for segments 0..n−1 (a live stream's new segments).
func (b *buffer) grow(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.cond.Broadcast()
	for len(b.segs) < n {
		b.segs = append(b.segs, segment{units: make([][]byte, b.layers)})
	}
}

// end fixes a live stream's segment count.
func (b *buffer) end(total int) {
	b.mu.Lock()
	b.total = total
	b.cond.Broadcast()
	b.mu.Unlock()
}

// await waits until segment n exists (a live stream published it) and reports true, or
// reports false when it never will: past the end, or the downloader finished.
func (b *buffer) await(ctx context.Context, n int) (bool, error) {
	defer b.wakeOnDone(ctx)()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		switch {
		case n < len(b.segs) && (b.total < 0 || n < b.total):
			return true, nil
		case b.total >= 0 && n >= b.total, b.done:
			return false, nil
		}
		b.cond.Wait()
	}
}

// add stores unit l of segment n; it reports false (and counts a wasted upgrade) when the
// segment was already committed.
func (b *buffer) add(n, l int, unit []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.segs[n]
	if s.committed {
		s.wasted++
		return false
	}
	s.units[l] = unit
	b.cond.Broadcast()
	return true
}

// addAll stores units 0..len(units)−1 of segment n at once (a joined object: the decoder
// must not commit the segment between them).
func (b *buffer) addAll(n int, units [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.segs[n]
	if s.committed {
		s.wasted += len(units)
		return
	}
	copy(s.units, units)
	b.cond.Broadcast()
}

// finish marks the downloader done (err == nil: every segment was fetched).
func (b *buffer) finish(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.err = true, err
	b.cond.Broadcast()
}

// commit waits until segment n has its base layer and either every layer, the decode
// window reached it (ready() says so), or the downloader is done; it then freezes the
// segment and returns its contiguous units. ready is called with the mutex held.
func (b *buffer) commit(ctx context.Context, n int, ready func(n int) bool) ([][]byte, error) {
	defer b.wakeOnDone(ctx)()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &b.segs[n]
		if s.skipped {
			s.committed = true
			return nil, errSkipped
		}
		k := s.layers()
		if k > 0 && (k == b.layers || ready(n) || b.done) {
			s.committed = true
			return s.units[:k], nil
		}
		if b.done && k == 0 {
			if b.err != nil {
				return nil, b.err
			}
			return nil, errNoBase
		}
		b.cond.Wait()
	}
}

// drop commits segment n without decoding it (a live session catching up) and frees its
// units.
func (b *buffer) drop(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.segs[n].committed = true
	for l := range b.segs[n].units {
		if b.segs[n].units[l] != nil {
			b.segs[n].units[l] = released
		}
	}
}

// release drops segment n's units once it is decoded (a long live session holds only
// what it has not played); its layer count stays.
func (b *buffer) release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for l, u := range b.segs[n].units {
		if u != nil {
			b.segs[n].units[l] = released
		}
	}
}

// released stands in for a unit that was decoded and dropped.
var released = []byte{}

// fetchedThrough records that the fetch of segments 0..n−1 finished.
func (b *buffer) fetchedThrough(n int) {
	b.mu.Lock()
	b.fetched = n
	b.cond.Broadcast()
	b.mu.Unlock()
}

// skip marks segment n as unobtainable.
func (b *buffer) skip(n int) {
	b.mu.Lock()
	b.segs[n].skipped = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

// wakeOnDone wakes every waiter when ctx ends (they then see ctx.Err()); call the result
// to unregister.
func (b *buffer) wakeOnDone(ctx context.Context) func() bool {
	return context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
}

// setPlayhead moves the playhead and wakes the downloader.
func (b *buffer) setPlayhead(t float64) {
	b.mu.Lock()
	b.playhead = t
	b.cond.Broadcast()
	b.mu.Unlock()
}

// startAt begins playback at segment n: earlier segments count as committed (never to be
// fetched or upgraded) and the playhead sits at n's start.
func (b *buffer) startAt(n int, segS float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i < n; i++ {
		b.segs[i].committed = true
	}
	b.playhead = float64(n) * segS
	b.decoded, b.fetched = n, n
}

// setWindow sets the decode window (seconds before a segment's play time it commits).
func (b *buffer) setWindow(w float64) {
	b.mu.Lock()
	b.windowS = w
	b.cond.Broadcast()
	b.mu.Unlock()
}

// window is the decode window in seconds.
func (b *buffer) window() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.windowS
}

// setDecoded records that segments 0..n−1 are decoded and the decoder's rate so far.
func (b *buffer) setDecoded(n int, fps float64) {
	b.mu.Lock()
	b.decoded, b.fps = n, fps
	b.mu.Unlock()
}

// playheadS is the media time presented.
func (b *buffer) playheadS() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.playhead
}

// decodeState returns the decoded segment count and the measured decode rate.
func (b *buffer) decodeState() (int, float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.decoded, b.fps
}

// snapshot returns the playhead and per-segment layer counts (for the policy's state).
func (b *buffer) snapshot() (float64, []int, []bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	held := make([]int, len(b.segs))
	committed := make([]bool, len(b.segs))
	for i := range b.segs {
		held[i] = b.segs[i].layers()
		committed[i] = b.segs[i].committed
	}
	return b.playhead, held, committed
}

// aheadS is the media downloaded ahead of the playhead: contiguous segments holding their
// base layer, from the one under the playhead.
func (b *buffer) aheadS(segS float64) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := int(b.playhead / segS)
	end := n
	for end < len(b.segs) && (b.segs[end].layers() > 0 || b.segs[end].committed) {
		end++
	}
	return max(float64(end)*segS-b.playhead, 0)
}

// waitPlayhead blocks until the playhead passes t or ctx ends.
func (b *buffer) waitPlayhead(ctx context.Context, t float64) error {
	defer b.wakeOnDone(ctx)()
	b.mu.Lock()
	defer b.mu.Unlock()
	// Media times are sums of float seconds (n·D − cap): a nanosecond of tolerance keeps
	// rounding from holding a request back by a whole frame.
	for b.playhead < t-1e-9 {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
	return nil
}

func (b *buffer) wasted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := 0
	for i := range b.segs {
		w += b.segs[i].wasted
	}
	return w
}
