package abr

import (
	"context"
	"testing"
)

type always struct{ a Action }

func (always) Name() string                                  { return "always" }
func (always) Reset()                                        {}
func (p always) Decide(ctx context.Context, s *State) Action { a := p.a; a.Segment = s.Next; return a }

func TestLimited(t *testing.T) {
	v := &Video{BitratesKbps: []float64{300, 750, 1200, 1850}, ChunkS: 4, Chunks: 10}
	s := &State{Video: v, Next: 3}
	p := &Limited{Policy: always{Action{Kind: Fetch, Quality: 3}}, MaxKbps: 1000, InitialKbps: 1300}
	if a := p.Decide(context.Background(), s); a.Kind != Fetch || a.Quality != 1 {
		t.Fatalf("capped fetch: %+v", a)
	}
	if q := p.InitialQuality(v); q != 1 {
		t.Fatalf("initial level %d, want 1 (1300 kbps initial, capped at 1000)", q)
	}
	p = &Limited{Policy: always{Action{Kind: Upgrade, Quality: 2}}, MaxKbps: 1000}
	if a := p.Decide(context.Background(), s); a.Kind != Fetch || a.Quality != 1 || a.Segment != 3 {
		t.Fatalf("upgrade above the cap: %+v", a)
	}
	p = &Limited{Policy: always{Action{Kind: Fetch, Quality: 3}}, MaxKbps: 100, InitialKbps: 100}
	if a, q := p.Decide(context.Background(), s), p.InitialQuality(v); a.Quality != 0 || q != 0 {
		t.Fatalf("a cap below the ladder: %+v, initial %d", a, q)
	}
	if q := (&Limited{Policy: always{}}).InitialQuality(v); q != DefaultQuality {
		t.Fatalf("no bounds: initial %d", q)
	}
}
