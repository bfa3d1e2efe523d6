package player

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/strata-player/strata/abr"
)

// Player is the playback API a front end drives (strata-player's keys, a test): it plays a
// presentation with Run and takes seeks, pauses and ABR policy switches while it does.
//
// A seek ends the running session and starts one at the segment holding the target time.
// The units fetched so far stay with the Player (up to MaxHeld segments): the new session
// plays the segments it already has without fetching them again and fetches only what is
// missing. A policy switch takes over at the downloader's next decision, with the session's
// history; a pause freezes the media clock.
type Player struct {
	cfg      Config
	clock    *PausableClock // nil for untimed playback (nothing to pause)
	policies chan abr.Policy
	held     *held

	mu     sync.Mutex
	seek   int                // segment a seek asked the following session to start at (−1: none)
	cancel context.CancelFunc // the running session's
	policy abr.Policy         // the policy deciding now; a session started by a seek starts with it
	last   Snapshot           // the latest presented frame's
}

// MaxHeld is how many fetched segments a Player keeps for sessions after a seek.
const MaxHeld = 64

// New prepares a Player for cfg (the fields Run requires must be set). Unless cfg plays
// untimed or brings a PausableClock, the Player's media clock is a new PausableClock.
// cfg.Policies and cfg.StartSegment are the Player's: SetPolicy and Seek set them.
func New(cfg Config) (*Player, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	p := &Player{cfg: cfg, policies: make(chan abr.Policy, 1), held: newHeld(MaxHeld), seek: -1, policy: cfg.Policy}
	if pc, ok := cfg.Clock.(*PausableClock); ok {
		p.clock = pc
	} else if cfg.Clock == nil && !cfg.Untimed {
		p.clock = NewPausableClock()
	}
	if p.clock != nil {
		p.cfg.Clock = p.clock
	}
	return p, nil
}

// Run plays until the presentation ends, ctx ends or the sink fails, running a new session
// after every seek; it returns the summary of the session that played to the end.
func (p *Player) Run(ctx context.Context) (*Summary, error) {
	start := p.cfg.StartSegment
	for {
		sctx, cancel := context.WithCancel(ctx)
		p.mu.Lock()
		p.cancel = cancel
		cfg := p.cfg
		cfg.Policy, cfg.Policies, cfg.StartSegment, cfg.held = p.policy, p.policies, start, p.held
		select { // the session starts with the latest policy already
		case <-p.policies:
		default:
		}
		p.mu.Unlock()
		onFrame := cfg.OnFrame
		cfg.OnFrame = func(sn Snapshot) {
			p.mu.Lock()
			p.last = sn
			p.mu.Unlock()
			if onFrame != nil {
				onFrame(sn)
			}
		}
		sum, err := Run(sctx, cfg)
		cancel()
		p.mu.Lock()
		seek := p.seek
		p.seek, p.cancel = -1, nil
		p.mu.Unlock()
		if seek >= 0 && ctx.Err() == nil {
			start = seek
			continue
		}
		return sum, err
	}
}

// Seek moves playback to media time t (clamped to the presentation): the running session
// ends and the next starts at the segment holding t. It does nothing before the first frame.
func (p *Player) Seek(t time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.last
	if s.SegmentS <= 0 || s.Segments == 0 {
		return
	}
	seg := int(math.Floor(t.Seconds() / s.SegmentS))
	p.seek = max(0, min(seg, s.Segments-1))
	if p.cancel != nil {
		p.cancel()
	}
}

// SeekBy seeks delta from the frame on screen.
func (p *Player) SeekBy(delta time.Duration) {
	p.mu.Lock()
	t := p.last.PTS + delta
	p.mu.Unlock()
	p.Seek(t)
}

// SetPaused pauses or resumes the media clock (untimed playback has none: no effect).
func (p *Player) SetPaused(paused bool) {
	if p.clock != nil {
		p.clock.SetPaused(paused)
	}
}

// Paused reports whether the media clock is paused.
func (p *Player) Paused() bool { return p.clock != nil && p.clock.Paused() }

// SetPolicy hands the downloader pol: it takes over at the next decision (a switch not yet
// taken is replaced) and plays on in the sessions after a seek.
func (p *Player) SetPolicy(pol abr.Policy) {
	p.mu.Lock()
	p.policy = pol
	p.mu.Unlock()
	select {
	case <-p.policies:
	default:
	}
	p.policies <- pol
}

// Snapshot is the state at the latest presented frame.
func (p *Player) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// Held is how many fetched segments the Player keeps for the sessions after a seek.
func (p *Player) Held() int { return p.held.count() }
