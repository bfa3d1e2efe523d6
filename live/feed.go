package live

import (
	"context"
	"io"
	"time"

	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
)

// Feed gives a Streamer its segments, in order.
type Feed interface {
	// Configs are the variants' layer-0 track configurations (ascending sub-GOP); they may
	// wait for the source's first frames.
	Configs(ctx context.Context) ([]cmaf.Config, error)
	// Next returns live segment i once it is ready to publish; io.EOF after the last.
	Next(ctx context.Context, i int) (Captured, error)
}

// Captured is one live segment ready to publish.
type Captured struct {
	Units [][][]byte    // Units[v][l]: variant v's layer l payload (fewer layers: not coded)
	Rows  []stream.SegQ // per variant, its quality row
	At    time.Time     // capture time: when its last frame was captured
	// Until is when the next segment is expected: its enhancement layers may take until
	// then (zero: a segment duration from when it was ready).
	Until time.Time
	// Patches is the bundle of the source's high-quality patches to send beside it
	// (MarshalPatches; nil: none), or PatchErr why it could not be made.
	Patches  []byte
	PatchErr error
	Report   *EncodeReport
}

// loopFeed is a pre-encoded Source on a wall-clock schedule: segment i is captured at
// t0 + (i+1)·segD and is source segment i mod N.
type loopFeed struct {
	src   *Source
	total int
	clock Clock
	t0    time.Time
	segD  time.Duration
}

func (f *loopFeed) Configs(context.Context) ([]cmaf.Config, error) {
	var c []cmaf.Config
	for _, v := range f.src.Variants {
		c = append(c, v.Base)
	}
	return c, nil
}

func (f *loopFeed) Next(ctx context.Context, i int) (Captured, error) {
	if i >= f.total {
		return Captured{}, io.EOF
	}
	due := f.t0.Add(time.Duration(i+1) * f.segD)
	if err := f.clock.Sleep(ctx, due.Sub(f.clock.Now())); err != nil {
		return Captured{}, err
	}
	src := i % f.src.Segments()
	c := Captured{At: due, Until: due.Add(f.segD)}
	for _, v := range f.src.Variants {
		c.Units = append(c.Units, v.Units[src])
		c.Rows = append(c.Rows, v.Rows[src])
	}
	return c, nil
}
