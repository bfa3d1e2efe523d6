package live

import (
	"fmt"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/enhance"
	"github.com/strata-player/strata/decoder/stream"
)

// EnhanceConfig turns on LiveNAS at the origin: the streamer's patches of each published
// segment, paired with the same crops of the segment decoded with Layers layers, train an
// enhancement model online (enhance.Online); every segment's training ends with a new
// model version the player can fetch (enhance/model-<v>.senh).
type EnhanceConfig struct {
	Codec  *decoder.Model // decodes the published layers
	Layers int            // the layer count the model enhances; default 1
	Init   *enhance.Net   // the generic model training starts from (required)
	// StepsPerSegment is the training budget per published segment; default 150 (about
	// one core's real time for 2 s segments at C = 16).
	StepsPerSegment int
	Online          enhance.OnlineConfig
}

// maxEnhanceQueue bounds the segments waiting for the trainer; more are dropped.
const maxEnhanceQueue = 4

// keepModels is how many model versions the origin serves.
const keepModels = 4

// enhancer is the origin's trainer goroutine and the model versions it published.
type enhancer struct {
	cfg  EnhanceConfig
	jobs chan enhanceJob
	done chan struct{}
	// guarded by the channel's mutex
	versions map[int][]byte
	info     stream.EnhanceInfo
	dropped  int
}

type enhanceJob struct {
	units   [][]byte
	patches []SourcePatch
}

func (c *Channel) startEnhancer(cfg EnhanceConfig) error {
	if cfg.Codec == nil || cfg.Init == nil {
		return fmt.Errorf("live: enhancement needs the codec and an initial model")
	}
	if cfg.Layers <= 0 {
		cfg.Layers = 1
	}
	if cfg.StepsPerSegment <= 0 {
		cfg.StepsPerSegment = 150
	}
	e := &enhancer{cfg: cfg, jobs: make(chan enhanceJob, maxEnhanceQueue), done: make(chan struct{}), versions: map[int][]byte{}}
	e.info.Layers = cfg.Layers
	c.enh = e
	on := enhance.NewOnline(cfg.Init.Clone(), cfg.Online)
	c.publishModel(on, cfg.Init.Marshal())
	go func() {
		defer close(e.done)
		dec := decoder.NewSegmentDecoder(cfg.Codec, 1)
		for j := range e.jobs {
			pairs, err := pairPatches(dec, j, cfg.Layers, cfg.Init.Scale)
			if err != nil {
				continue // a segment that does not decode teaches nothing
			}
			on.Add(pairs, false)
			if on.Train(cfg.StepsPerSegment) > 0 && on.BeatsStart() {
				c.publishModel(on, on.Snapshot().Marshal())
			} else {
				c.mu.Lock()
				e.info.Paused = on.Paused()
				c.mu.Unlock()
			}
		}
	}()
	return nil
}

// publishModel adds a model version (the trainer goroutine, and the start).
func (c *Channel) publishModel(on *enhance.Online, b []byte) {
	gain := on.Gain()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.enh
	e.info.Version++
	e.versions[e.info.Version] = b
	delete(e.versions, e.info.Version-keepModels)
	e.info.Bytes, e.info.GainDB, e.info.Steps, e.info.Paused = len(b), gain, on.Steps(), on.Paused()
	e.info.Pauses, e.info.Resumes = on.Pauses, on.Resumes
}

// pairPatches decodes the segment and cuts the decoded crops matching the patches (of the
// decode's bicubic double for an upsampler, scale 2).
func pairPatches(dec *decoder.SegmentDecoder, j enhanceJob, layers, scale int) ([]enhance.Patch, error) {
	seg, err := decoder.ParseBaseUnit(j.units[0])
	if err != nil {
		return nil, err
	}
	for _, u := range j.units[1:layers] {
		if err := seg.AddUnit(u); err != nil {
			return nil, err
		}
	}
	frames, err := dec.Decode(seg, layers)
	if err != nil {
		return nil, err
	}
	var out []enhance.Patch
	w, h := seg.Width, seg.Height
	if scale == 2 {
		w, h = 2*w, 2*h
	}
	for _, p := range j.patches {
		if p.Frame >= len(frames) || p.X+p.Size > w || p.Y+p.Size > h {
			continue
		}
		f := frames[p.Frame]
		if scale == 2 {
			// An upsampler learns on the bicubic double of the visible half-resolution
			// frame, the player's input to it (the patches are the full-resolution source).
			f = enhance.Upscale2(nil, decoder.Crop(f, seg.Width, seg.Height, nil), w, h)
		}
		d := make([]byte, p.Size*p.Size)
		for y := 0; y < p.Size; y++ {
			copy(d[y*p.Size:(y+1)*p.Size], f.Y[(p.Y+y)*f.W+p.X:])
		}
		out = append(out, enhance.Patch{W: p.Size, H: p.Size, Decoded: d, Source: p.Luma})
	}
	return out, nil
}

// PutPatches takes the streamer's patches of segment n (0-based) of variant s, which must
// be published; the trainer gets them with the segment's layers. Without enhancement
// configured the request is a conflict.
func (c *Channel) PutPatches(s, n int, body []byte) error {
	ps, err := ParsePatches(body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enh == nil {
		return fmt.Errorf("%w: this origin does not train an enhancement model", ErrConflict)
	}
	v := c.variants[s]
	if v == nil {
		return fmt.Errorf("%w: no variant with sub-GOP %d", ErrConflict, s)
	}
	sg := v.segs[n]
	if sg == nil || sg.row == nil || len(sg.row.Levels) < c.enh.cfg.Layers {
		return fmt.Errorf("%w: segment %d is not published with %d layers", ErrConflict, n, c.enh.cfg.Layers)
	}
	w, h := int(v.base.Width), int(v.base.Height)
	if c.enh.cfg.Init.Scale == 2 {
		w, h = 2*w, 2*h // an upsampler's patches are of the full-resolution source
	}
	for _, p := range ps {
		if p.Frame >= int(v.base.SegmentFrames) || p.X+p.Size > w || p.Y+p.Size > h {
			return fmt.Errorf("%w: a patch lies outside segment %d's frames", ErrBadRequest, n)
		}
	}
	job := enhanceJob{units: append([][]byte(nil), sg.units[:c.enh.cfg.Layers]...), patches: ps}
	select {
	case c.enh.jobs <- job:
	default:
		c.enh.dropped++ // the trainer is behind: the newest patches wait for the next segment
	}
	return nil
}

// Close stops the channel's trainer (if any) and waits for it.
func (c *Channel) Close() {
	c.closeOnce.Do(func() {
		if c.enh != nil {
			close(c.enh.jobs)
			<-c.enh.done
		}
	})
}
