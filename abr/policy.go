package abr

import (
	"context"
	"fmt"
)

// Sample is one finished download, with the DASH Annex D timing the fetcher measures.
type Sample struct {
	Bytes int64
	// DelayMs is request to last byte, including the round trip (Pensieve's "delay").
	DelayMs float64
	// DownloadMs is first to last byte (DelayMs without the request's round trip).
	DownloadMs float64
}

// ThroughputMbps is Bytes over DelayMs, in Mbit/s.
func (s Sample) ThroughputMbps() float64 { return float64(s.Bytes) * 8 / s.DelayMs / 1000 }

// State is what a policy sees after every finished download. The simulator, the player
// and the ABR daemon fill it the same way.
type State struct {
	Video *Video
	// Next is the index of the next chunk to fetch; it equals the chunks downloaded so far.
	Next int
	// LastQuality is the quality of the chunk just downloaded.
	LastQuality int
	BufferS     float64
	// RebufferS is the stall time the last download caused.
	RebufferS float64
	// Samples holds this session's downloads, oldest first; the last is the one just finished.
	Samples []Sample
	// Transfers counts every sample the session produced; Samples may keep only the last
	// ones. 0 means len(Samples).
	Transfers int

	// What layered sessions (Video.Layers != nil) add. BufferS above is the buffer as the
	// player counts it: received media ahead of the playhead, or decoded media only for a
	// player that counts decoded frames (the conventional view LiFteR improves on).
	//
	// Held[n] is how many layers of fetched segment n are held (len(Held) == Next).
	Held []int
	// Reachable[n] is the most layers fetched segment n can still get (a layer the origin
	// failed to deliver is not offered again); nil means every layer.
	Reachable []int
	// Committed segments (0..Committed−1) went to the decoder: upgrading them is wasted.
	Committed int
	PlayheadS float64
	// VirtualS is media received but not played, decoded or not (LiFteR's virtual buffer);
	// DecodedS is the decoded part of it.
	VirtualS, DecodedS float64
	// DecodeFPS is the device's decode speed for this stream (0: unknown, taken as instant).
	DecodeFPS float64
	// DecodeWindowS: a segment is committed this long before its play time unless it holds
	// every layer (then as soon as the decoder takes it). MaxBufferS: fetches wait while
	// VirtualS would exceed it.
	DecodeWindowS, MaxBufferS float64
	// RTTMs is the round trip each request costs, as the session measures it (0: unknown).
	RTTMs float64
}

// ActionKind says what an Action asks for.
type ActionKind uint8

// The actions a policy can take. Classic single-layer policies only ever Fetch; layered
// policies (Swift) also Upgrade buffered segments; Wait leaves the link idle.
const (
	Fetch ActionKind = iota
	Upgrade
	Wait
)

// Action is one decision: Fetch chunk Segment at Quality (for layered streams, layers
// 0..Quality), Upgrade buffered Segment to Quality, or Wait.
type Action struct {
	Kind    ActionKind
	Segment int
	Quality int
}

// Policy decides what to download next. Decide is called after every finished download
// and returns one action; it is pure with respect to its inputs plus the policy's own
// state, so the simulator, the player and the daemon drive the same implementations.
type Policy interface {
	Name() string
	// Reset starts a new session (a new trace or stream). Policies forget their session
	// state here; mpc-batch deliberately keeps its throughput-error history, as Pensieve's
	// mpc.py does when it runs every trace in one process.
	Reset()
	// Decide returns the next action for state s. A policy that does I/O to decide (one
	// that asks a remote ABR daemon) ends it with ctx, the caller's playback or request;
	// the others ignore it.
	Decide(ctx context.Context, s *State) Action
}

// DefaultQuality is the quality of every session's first chunk, before any policy has seen
// a download (Pensieve's DEFAULT_QUALITY).
const DefaultQuality = 1

// Spec describes a registered policy.
type Spec struct {
	Name string
	Help string
	New  func() Policy
	// Sequential marks a policy whose state crosses sessions (traces must then run in
	// order through one instance); others run traces in parallel.
	Sequential bool
	// SimOnly marks a policy that needs what only the simulator knows (the future trace):
	// players and the daemon refuse it.
	SimOnly bool
}

var registry []Spec

// Register adds a policy to the registry that Lookup and Policies read.
func Register(s Spec) { registry = append(registry, s) }

// Policies lists the registered policies in registration order.
func Policies() []Spec { return append([]Spec(nil), registry...) }

// Lookup finds a registered policy by name.
func Lookup(name string) (Spec, error) {
	if s, ok, err := parseFixed(name); ok {
		return s, err
	}
	for _, s := range registry {
		if s.Name == name {
			return s, nil
		}
	}
	names := ""
	for i, s := range registry {
		if i > 0 {
			names += ", "
		}
		names += s.Name
	}
	return Spec{}, fmt.Errorf("unknown ABR policy %q (have %s, fixed:<layers>)", name, names)
}

// LookupLive is Lookup for a live session (a player or the daemon): policies that need the
// simulator's knowledge of the future are refused.
func LookupLive(name string) (Spec, error) {
	s, err := Lookup(name)
	if err == nil && s.SimOnly {
		return Spec{}, fmt.Errorf("ABR policy %q needs the future trace and runs in strata sim only", name)
	}
	return s, err
}

// Reach is the most layers fetched segment n can still get.
func (s *State) Reach(n int) int {
	if n < len(s.Reachable) {
		return s.Reachable[n]
	}
	return len(s.Video.BitratesKbps)
}

// TransferCount is how many samples the session produced so far.
func (s *State) TransferCount() int {
	if s.Transfers > 0 {
		return s.Transfers
	}
	return len(s.Samples)
}
