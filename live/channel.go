// Package live is strata's live origin: a Channel takes a layered stream from a streamer
// (strata ingest) segment by segment over authenticated PUTs, and publishes it as a live
// DASH presentation: a dynamic MPD, a growing quality sidecar and the CMAF segments of every
// layer and joined Representation, each available once its segment is complete and for a
// bounded window behind the live edge. The Channel holds only that window, so its memory
// is bounded; it does no I/O of its own and does not log.
package live

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder/packager"
)

// Config configures a Channel.
type Config struct {
	// Token authenticates the streamer (Authorization: Bearer TOKEN); at least 16 bytes.
	Token string
	// Window is how long a segment stays available behind the live edge (the MPD's
	// timeShiftBufferDepth). It defaults to 60 s.
	Window time.Duration
	// Delay is the latency the MPD suggests to players. It defaults to three segments.
	Delay time.Duration
	// MaxUnitBytes bounds one uploaded media segment. It defaults to 8 MiB.
	MaxUnitBytes int
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// Enhance, if set, trains an enhancement model online from the streamer's patches and
	// publishes it as a model track (Close stops the trainer).
	Enhance *EnhanceConfig
}

// Errors the ingest side reports (the handler maps them to HTTP statuses).
var (
	ErrBadRequest = errors.New("live: bad ingest request")
	ErrConflict   = errors.New("live: conflicts with what the channel has")
)

// maxAhead bounds how far beyond the live edge a streamer may upload (segments in flight).
const maxAhead = 4

// maxVariants and maxLayers bound a channel's Representations.
const (
	maxVariants = 4
	maxLayers   = 8
)

// Channel is one live stream.
type Channel struct {
	cfg Config
	mu  sync.Mutex
	// variants by sub-GOP size.
	variants map[int]*variant
	// ast is the availability start: segment n is due at ast + (n+1)·D. It is set when
	// the first segment completes.
	ast   time.Time
	segD  time.Duration
	edge  int // segments 0..edge−1 are complete or abandoned; 0 before the first
	ended bool
	// enh is the online trainer (nil: none); closeOnce stops it once.
	enh       *enhancer
	closeOnce sync.Once
}

type variant struct {
	base cmaf.Config // Layer 0's configuration
	init []bool      // init segment received, per layer
	segs map[int]*segment
	// peak bit rates seen, per layer and per joined count, for the MPD's bandwidths.
	layerBPS, joinedBPS []int
}

type segment struct {
	units [][]byte     // per layer; nil: not received
	row   *stream.SegQ // set when the segment is complete
}

// NewChannel returns an empty channel.
func NewChannel(cfg Config) (*Channel, error) {
	if len(cfg.Token) < 16 {
		return nil, errors.New("live: the ingest token must have at least 16 bytes")
	}
	if cfg.Window <= 0 {
		cfg.Window = 60 * time.Second
	}
	if cfg.MaxUnitBytes <= 0 {
		cfg.MaxUnitBytes = 8 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Channel{cfg: cfg, variants: map[int]*variant{}}
	if cfg.Enhance != nil {
		if err := c.startEnhancer(*cfg.Enhance); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// windowSegs is the number of segments the window keeps.
func (c *Channel) windowSegs() int {
	return max(1, int(math.Ceil(float64(c.cfg.Window)/float64(c.segD))))
}

// PutInit declares layer rep's track (a CMAF init segment). Every layer of every variant
// must share the geometry, frame rate, segment length and model.
func (c *Channel) PutInit(s, l int, body []byte) error {
	cfg, err := cmaf.ParseInit(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if int(cfg.SubGOP) != s || int(cfg.Layer) != l || cfg.Layers > maxLayers || l >= int(cfg.Layers) {
		return fmt.Errorf("%w: the init segment of %s says sub-GOP %d layer %d of %d", ErrBadRequest,
			packager.LayerID(s, l), cfg.SubGOP, cfg.Layer, cfg.Layers)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	base := cfg
	base.Layer = 0
	v := c.variants[s]
	if v == nil {
		for _, o := range c.variants {
			if o.base.Width != base.Width || o.base.Height != base.Height || o.base.FPSNum != base.FPSNum ||
				o.base.FPSDen != base.FPSDen || o.base.SegmentFrames != base.SegmentFrames || o.base.Model != base.Model {
				return fmt.Errorf("%w: variant S=%d differs from S=%d in geometry, timing or model", ErrConflict, s, o.base.SubGOP)
			}
		}
		if len(c.variants) >= maxVariants {
			return fmt.Errorf("%w: at most %d variants", ErrConflict, maxVariants)
		}
		if c.edge > 0 {
			return fmt.Errorf("%w: variants cannot be added once the stream is live", ErrConflict)
		}
		v = &variant{base: base, init: make([]bool, base.Layers), segs: map[int]*segment{},
			layerBPS: make([]int, base.Layers), joinedBPS: make([]int, base.Layers)}
		c.variants[s] = v
		c.segD = time.Duration(float64(base.SegmentDuration()) / float64(base.Timescale()) * float64(time.Second))
	} else if v.base != base {
		return fmt.Errorf("%w: the init segment of %s differs from the variant's", ErrConflict, packager.LayerID(s, l))
	}
	v.init[l] = true
	return nil
}

// PutUnit stores layer l of segment n (0-based) of variant s, a CMAF media segment.
func (c *Channel) PutUnit(s, l, n int, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.variants[s]
	if v == nil || l >= len(v.init) || !v.init[l] {
		return fmt.Errorf("%w: no init segment for %s", ErrConflict, packager.LayerID(s, l))
	}
	if c.ended {
		return fmt.Errorf("%w: the stream has ended", ErrConflict)
	}
	if err := c.acceptable(n); err != nil {
		return err
	}
	cfg := v.base
	cfg.Layer = uint8(l)
	num, data, err := cmaf.ParseMedia(cfg, body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if int(num) != n {
		return fmt.Errorf("%w: the fragment is segment %d, the path says %d", ErrBadRequest, num, n)
	}
	sg := v.segs[n]
	if sg == nil {
		sg = &segment{units: make([][]byte, v.base.Layers)}
		v.segs[n] = sg
	}
	if sg.row != nil {
		return fmt.Errorf("%w: segment %d is already published", ErrConflict, n)
	}
	sg.units[l] = slices.Clone(data)
	return nil
}

// acceptable says whether segment n may still be uploaded: not behind the live edge's
// window, not too far ahead of it.
func (c *Channel) acceptable(n int) error {
	if n < 0 || n >= 1<<24 {
		return fmt.Errorf("%w: segment %d", ErrBadRequest, n)
	}
	if c.edge > 0 && (n < c.edge-c.windowSegs() || n >= c.edge+maxAhead) {
		return fmt.Errorf("%w: segment %d is outside the ingest window around the live edge %d", ErrConflict, n, c.edge)
	}
	return nil
}

// Complete publishes segment n of variant s with the layers its quality row lists (they
// must all have been uploaded): from now on players can fetch it.
func (c *Channel) Complete(s, n int, rowJSON []byte) error {
	var row stream.SegQ
	if err := json.Unmarshal(rowJSON, &row); err != nil {
		return fmt.Errorf("%w: quality row: %v", ErrBadRequest, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.variants[s]
	if v == nil {
		return fmt.Errorf("%w: no variant with sub-GOP %d", ErrConflict, s)
	}
	if c.ended {
		return fmt.Errorf("%w: the stream has ended", ErrConflict)
	}
	if err := c.acceptable(n); err != nil {
		return err
	}
	sg := v.segs[n]
	if err := checkRow(&row, n, v.base, sg); err != nil {
		return err
	}
	sg.row = &row
	for l := len(row.Levels); l < len(sg.units); l++ {
		sg.units[l] = nil // layers beyond the row are not published
	}
	segS := c.segD.Seconds()
	cum := 0
	for l, u := range sg.units[:len(row.Levels)] {
		v.layerBPS[l] = max(v.layerBPS[l], int(float64(len(u))*8/segS)+1)
		cum += len(u)
		v.joinedBPS[l] = max(v.joinedBPS[l], int(float64(cum)*8/segS)+1)
	}
	if c.ast.IsZero() {
		c.ast = c.cfg.Now().Add(-time.Duration(n+1) * c.segD)
	}
	if n+1 > c.edge {
		c.edge = n + 1
		c.evict()
	}
	return nil
}

func checkRow(row *stream.SegQ, n int, base cmaf.Config, sg *segment) error {
	if row.Segment != n || row.Frames != int(base.SegmentFrames) || len(row.Levels) < 1 || len(row.Levels) > int(base.Layers) {
		return fmt.Errorf("%w: quality row of segment %d: segment %d, %d frames, %d levels", ErrBadRequest, n, row.Segment, row.Frames, len(row.Levels))
	}
	if sg == nil {
		return fmt.Errorf("%w: segment %d has no layers", ErrConflict, n)
	}
	if sg.row != nil {
		return fmt.Errorf("%w: segment %d is already published", ErrConflict, n)
	}
	for k, lv := range row.Levels {
		ok := lv.Layers == k+1 && lv.Bytes >= 0
		for _, q := range []float64{lv.PSNRY, lv.PSNRYUV, lv.WorstY} {
			ok = ok && q >= 0 && q <= 200
		}
		if !ok || !(lv.SSIMY >= -1 && lv.SSIMY <= 1) {
			return fmt.Errorf("%w: quality row of segment %d, level %d", ErrBadRequest, n, k+1)
		}
		if sg.units[k] == nil {
			return fmt.Errorf("%w: segment %d lists layer %d, which was not uploaded", ErrConflict, n, k)
		}
	}
	return nil
}

// evict drops segments that left the window (the edge moved).
func (c *Channel) evict() {
	first := c.edge - c.windowSegs()
	for _, v := range c.variants {
		for n := range v.segs {
			if n < first {
				delete(v.segs, n)
			}
		}
	}
}

// End marks the stream over: segments after the live edge are dropped and the MPD gets its
// duration.
func (c *Channel) End() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.edge == 0 {
		return fmt.Errorf("%w: nothing was published", ErrConflict)
	}
	c.ended = true
	for _, v := range c.variants {
		for n, sg := range v.segs {
			if sg.row == nil {
				delete(v.segs, n)
			}
		}
	}
	return nil
}

// Source answers a player's request for name (a path below the channel): the MPD, a
// quality sidecar, an init or a media segment. fs.ErrNotExist: no such thing, or not
// available now.
func (c *Channel) Source(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.edge == 0 {
		return nil, fs.ErrNotExist // not live yet
	}
	switch p, ok := parseName(name); {
	case !ok:
		return nil, fs.ErrNotExist
	case p.kind == nameMPD:
		return c.mpd()
	case p.kind == nameQuality:
		return c.quality(p.s)
	case p.kind == nameModel:
		if c.enh == nil || c.enh.versions[p.n] == nil {
			return nil, fs.ErrNotExist
		}
		return c.enh.versions[p.n], nil
	default:
		return c.media(p)
	}
}

func (c *Channel) sortedSubGOPs() []int {
	var out []int
	for s := range c.variants {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (c *Channel) mpd() ([]byte, error) {
	l := packager.Live{AvailabilityStart: c.ast, Publish: c.cfg.Now(), TimeShiftBuffer: c.cfg.Window,
		SuggestedDelay: c.cfg.Delay, MinUpdate: c.segD, Ended: c.ended, Segments: c.edge}
	if l.SuggestedDelay <= 0 {
		l.SuggestedDelay = 3 * c.segD
	}
	if l.Publish.Before(l.AvailabilityStart) {
		l.Publish = l.AvailabilityStart
	}
	for _, s := range c.sortedSubGOPs() {
		v := c.variants[s]
		l.Variants = append(l.Variants, packager.LiveVariant{Base: v.base, LayerBPS: v.layerBPS, JoinedBPS: v.joinedBPS})
	}
	if c.enh != nil {
		l.ModelLayers = c.enh.cfg.Layers
	}
	return packager.LiveMPD(l)
}

// quality is variant s's sidecar: the stream description with one row per segment of the
// window (First on); a segment that never completed has no levels.
func (c *Channel) quality(s int) ([]byte, error) {
	v := c.variants[s]
	if v == nil {
		return nil, fs.ErrNotExist
	}
	b := v.base
	si := stream.Info{Version: decoder.BitstreamVersion, Width: int(b.Width), Height: int(b.Height), FPSNum: int(b.FPSNum),
		FPSDen: int(b.FPSDen), SubGOP: s, Layers: int(b.Layers), Segments: c.edge, SegmentFrame: int(b.SegmentFrames),
		Frames: c.edge * int(b.SegmentFrames), ModelSHA256: hex.EncodeToString(b.Model[:]),
		Live: &stream.LiveInfo{First: max(0, c.edge-c.windowSegs()), Ended: c.ended}}
	if c.enh != nil {
		info := c.enh.info
		si.Live.Enhance = &info
	}
	for n := si.Live.First; n < c.edge; n++ {
		row := stream.SegQ{Segment: n, Frames: int(b.SegmentFrames)}
		if sg := v.segs[n]; sg != nil && sg.row != nil {
			row = *sg.row
		}
		si.Quality = append(si.Quality, row)
	}
	return json.Marshal(&si)
}

// media builds an init or media segment of a layer or joined Representation.
func (c *Channel) media(p name) ([]byte, error) {
	v := c.variants[p.s]
	if v == nil {
		return nil, fs.ErrNotExist
	}
	cfg := v.base
	k := p.layer + 1 // layers the object needs
	if p.joined > 0 {
		cfg.Layer, cfg.JoinedLayers = cmaf.Joined, uint8(p.joined)
		k = p.joined
	} else {
		cfg.Layer = uint8(p.layer)
	}
	if k > int(v.base.Layers) {
		return nil, fs.ErrNotExist
	}
	if p.kind == nameInit {
		return cmaf.BuildInit(cfg)
	}
	sg := v.segs[p.n]
	if sg == nil || sg.row == nil || k > len(sg.row.Levels) {
		return nil, fs.ErrNotExist
	}
	if p.joined > 0 {
		return cmaf.BuildMedia(cfg, uint32(p.n), cmaf.Join(sg.units[:k]))
	}
	return cmaf.BuildMedia(cfg, uint32(p.n), sg.units[p.layer])
}

// Status is what the channel holds, for logs and tests.
type Status struct {
	AvailabilityStart time.Time
	Edge              int // segments 0..Edge−1 are published (or abandoned)
	Held              int // segments held in memory, all variants
	Ended             bool
	// TrainDropped counts patch bundles the enhancement trainer had no room for.
	TrainDropped int
}

// Status reports the channel's state.
func (c *Channel) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{AvailabilityStart: c.ast, Edge: c.edge, Ended: c.ended}
	if c.enh != nil {
		st.TrainDropped = c.enh.dropped
	}
	for _, v := range c.variants {
		st.Held += len(v.segs)
	}
	return st
}
