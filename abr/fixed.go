package abr

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Fixed always fetches the next segment at one level: Layers layers of a layered stream
// (quality Layers−1 of a ladder), capped to what the stream has. Its name is
// "fixed:<layers>"; the player's r/R keys lock the ABR this way.
type Fixed struct{ Layers int }

// Name implements Policy.
func (p Fixed) Name() string { return "fixed:" + strconv.Itoa(p.Layers) }

// Reset implements Policy.
func (Fixed) Reset() {}

// Decide implements Policy.
func (p Fixed) Decide(ctx context.Context, s *State) Action {
	q := min(p.Layers, len(s.Video.BitratesKbps)) - 1
	if s.Next >= s.Video.Chunks {
		return Action{Kind: Wait}
	}
	return Action{Kind: Fetch, Segment: s.Next, Quality: max(q, 0)}
}

// parseFixed recognises "fixed:<layers>" with 1 ≤ layers ≤ 64.
func parseFixed(name string) (Spec, bool, error) {
	arg, ok := strings.CutPrefix(name, "fixed:")
	if !ok {
		return Spec{}, false, nil
	}
	k, err := strconv.Atoi(arg)
	if err != nil || k < 1 || k > 64 {
		return Spec{}, true, fmt.Errorf("ABR policy %q: want fixed:<layers> with 1..64 layers", name)
	}
	return Spec{Name: name, Help: "always the same number of layers", New: func() Policy { return Fixed{Layers: k} }}, true, nil
}
