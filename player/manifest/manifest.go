// Package manifest is the player's model of a strata DASH presentation (ISO/IEC 23009-1):
// sub-GOP variants (AdaptationSets), their per-layer Representations chained by
// @dependencyId, joined Representations, the segment template and the quality sidecar.
// Parse works on bytes; nothing here does I/O.
package manifest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"
)

// The descriptors our packager writes (encoder/packager).
const (
	SubGOPScheme  = "urn:strata:subgop:2026"
	QualityScheme = "urn:strata:quality:2026"
)

// ErrManifest is wrapped by every parse error.
var ErrManifest = errors.New("manifest")

// Rep is one Representation.
type Rep struct {
	ID           string
	BandwidthBPS int
	// Layers is 1 for a layer Representation (it carries layer Layer-1... see Layer) and k
	// for a joined one.
	Layer  int // layer index for layer reps, -1 for joined
	Joined int // layers joined, 0 for layer reps
	init   string
	media  string
	base   *url.URL
	start  int
}

// InitURL is the Representation's init segment.
func (r *Rep) InitURL() string { return r.resolve(expand(r.init, r.ID, 0, r.BandwidthBPS)) }

// MediaURL is media segment n (0-based; the template's startNumber is added).
func (r *Rep) MediaURL(n int) string {
	return r.resolve(expand(r.media, r.ID, n+r.start, r.BandwidthBPS))
}

func (r *Rep) resolve(s string) string {
	u, err := url.Parse(s)
	if err != nil || r.base == nil {
		return s
	}
	return r.base.ResolveReference(u).String()
}

// Variant is one sub-GOP configuration.
type Variant struct {
	SubGOP     int
	Layers     []*Rep // by layer index
	Joined     []*Rep // Joined[k-1] joins layers 0..k-1 (may be empty)
	QualityURL string
}

// Presentation is a parsed MPD.
type Presentation struct {
	DurationS        float64
	SegmentDurationS float64
	// Segments is the segment count; 0 for a live presentation that has not ended.
	Segments      int
	MinBufferS    float64
	Width, Height int
	Variants      []*Variant // ascending SubGOP
	// Live is set for a dynamic presentation (a live stream): segment n becomes available
	// at AvailabilityStart + (n+1)·SegmentDurationS.
	Live *Live
}

// Live is what a dynamic MPD says about its schedule.
type Live struct {
	AvailabilityStart, Publish time.Time
	// MinUpdateS: re-read the MPD this often (0 once the stream ended); TimeShiftS: how
	// long segments stay available behind the live edge; SuggestedDelayS: the latency to
	// play at (0: not given).
	MinUpdateS, TimeShiftS, SuggestedDelayS float64
	// Ended says the stream is over (the MPD has a mediaPresentationDuration).
	Ended bool
}

// Available is when segment n (0-based) of a live presentation can be fetched.
func (l *Live) Available(n int, segS float64) time.Time {
	return l.AvailabilityStart.Add(time.Duration(float64(n+1) * segS * float64(time.Second)))
}

// Variant returns the variant with sub-GOP s, or nil.
func (p *Presentation) Variant(s int) *Variant {
	for _, v := range p.Variants {
		if v.SubGOP == s {
			return v
		}
	}
	return nil
}

// maxMPDBytes bounds the document.
const maxMPDBytes = 4 << 20

// checkXML vets the document with the standard library's XML decoder before dash-mpd sees
// it: well-formed, at most maxMPDBytes, and a single root element named MPD. (dash-mpd's
// fork of encoding/xml does not terminate on some malformed input.)
func checkXML(data []byte) error {
	if len(data) > maxMPDBytes {
		return fmt.Errorf("document of %d bytes exceeds %d", len(data), maxMPDBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "MPD" || roots > 1 {
					return fmt.Errorf("root element %q: want one MPD", t.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the MPD element")
			}
		}
	}
	if roots != 1 {
		return errors.New("no MPD element")
	}
	return nil
}

// canonicalXML rewrites a document that checkXML accepted from its raw tokens: elements and
// attributes with their original prefixes, text and attribute values freshly escaped,
// comments, processing instructions and directives dropped. dash-mpd then only ever sees
// this plain form.
func canonicalXML(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var b strings.Builder
	name := func(n xml.Name) string {
		if n.Space != "" {
			return n.Space + ":" + n.Local
		}
		return n.Local
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			b.WriteString("<" + name(t.Name))
			for _, a := range t.Attr {
				b.WriteString(" " + name(a.Name) + `="`)
				xml.EscapeText(&b, []byte(a.Value))
				b.WriteString(`"`)
			}
			b.WriteString(">")
		case xml.EndElement:
			b.WriteString("</" + name(t.Name) + ">")
		case xml.CharData:
			xml.EscapeText(&b, t)
		}
	}
}

var tmplVar = regexp.MustCompile(`\$(RepresentationID|Number|Bandwidth|Time)?(%0(\d+)d)?\$`)

// expand substitutes SegmentTemplate identifiers (ISO/IEC 23009-1 5.3.9.4.4).
func expand(t, id string, number, bandwidth int) string {
	return tmplVar.ReplaceAllStringFunc(t, func(m string) string {
		s := tmplVar.FindStringSubmatch(m)
		var v string
		switch s[1] {
		case "":
			return "$"
		case "RepresentationID":
			return id
		case "Number":
			v = strconv.Itoa(number)
		case "Bandwidth":
			v = strconv.Itoa(bandwidth)
		case "Time":
			return m // not used by our templates (no SegmentTimeline)
		}
		if s[3] != "" {
			w, _ := strconv.Atoi(s[3])
			if w > 0 && w < 32 && len(v) < w {
				v = strings.Repeat("0", w-len(v)) + v
			}
		}
		return v
	})
}

// Parse reads an MPD; relative URLs resolve against base (may be nil).
func Parse(data []byte, base *url.URL) (*Presentation, error) {
	if err := checkXML(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	canon, err := canonicalXML(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	m, err := mpd.ReadFromString(canon)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if len(m.Periods) != 1 {
		return nil, fmt.Errorf("%w: want one Period, have %d", ErrManifest, len(m.Periods))
	}
	p := &Presentation{}
	switch m.GetType() {
	case "static":
	case "dynamic":
		if p.Live, err = parseLive(m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrManifest, err)
		}
	default:
		return nil, fmt.Errorf("%w: presentation type %q", ErrManifest, m.GetType())
	}
	if m.MediaPresentationDuration != nil {
		p.DurationS = m.MediaPresentationDuration.Seconds()
		if p.Live != nil {
			p.Live.Ended, p.Live.MinUpdateS = true, 0
		}
	} else if p.Live == nil {
		return nil, fmt.Errorf("%w: no mediaPresentationDuration", ErrManifest)
	}
	if m.MinBufferTime != nil {
		p.MinBufferS = m.MinBufferTime.Seconds()
	}
	if !(p.DurationS > 0 && p.DurationS < 1e6) && !(p.Live != nil && !p.Live.Ended) {
		return nil, fmt.Errorf("%w: duration %g s", ErrManifest, p.DurationS)
	}
	for _, as := range m.Periods[0].AdaptationSets {
		v, err := parseVariant(as, base, p)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if p.Variant(v.SubGOP) != nil {
			return nil, fmt.Errorf("%w: two AdaptationSets with sub-GOP %d", ErrManifest, v.SubGOP)
		}
		p.Variants = append(p.Variants, v)
	}
	if len(p.Variants) == 0 {
		return nil, fmt.Errorf("%w: no nvc1 AdaptationSet", ErrManifest)
	}
	sort.Slice(p.Variants, func(i, j int) bool { return p.Variants[i].SubGOP < p.Variants[j].SubGOP })
	return p, nil
}

// maxLiveS bounds a live presentation's durations (update period, time shift, delay).
const maxLiveS = 24 * 3600

// parseLive reads a dynamic MPD's schedule.
func parseLive(m *mpd.MPD) (*Live, error) {
	l := &Live{}
	var err error
	if l.AvailabilityStart, err = parseDateTime(string(m.AvailabilityStartTime)); err != nil {
		return nil, fmt.Errorf("availabilityStartTime: %v", err)
	}
	if m.PublishTime != "" {
		if l.Publish, err = parseDateTime(string(m.PublishTime)); err != nil {
			return nil, fmt.Errorf("publishTime: %v", err)
		}
	}
	for _, d := range []struct {
		v   *mpd.Duration
		out *float64
		nm  string
	}{{m.MinimumUpdatePeriod, &l.MinUpdateS, "minimumUpdatePeriod"}, {m.TimeShiftBufferDepth, &l.TimeShiftS, "timeShiftBufferDepth"},
		{m.SuggestedPresentationDelay, &l.SuggestedDelayS, "suggestedPresentationDelay"}} {
		if d.v == nil {
			continue
		}
		if s := d.v.Seconds(); s >= 0 && s <= maxLiveS {
			*d.out = s
		} else {
			return nil, fmt.Errorf("%s %g s", d.nm, s)
		}
	}
	if p := m.Periods[0]; p.Start != nil && p.Start.Seconds() != 0 {
		return nil, fmt.Errorf("period start %g s: want 0", p.Start.Seconds())
	}
	return l, nil
}

// parseDateTime reads an xs:dateTime with a time zone, between the years 1970 and 9999.
func parseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("year %d", t.Year())
	}
	return t, nil
}

func parseVariant(as *mpd.AdaptationSetType, base *url.URL, p *Presentation) (*Variant, error) {
	if !strings.HasPrefix(as.Codecs, "nvc1") {
		return nil, nil // not ours
	}
	v := &Variant{SubGOP: 1}
	for _, d := range as.SupplementalProperties {
		switch d.SchemeIdUri {
		case SubGOPScheme:
			s, err := strconv.Atoi(d.Value)
			if err != nil || s < 1 || s > 64 || s&(s-1) != 0 {
				return nil, fmt.Errorf("%w: sub-GOP %q", ErrManifest, d.Value)
			}
			v.SubGOP = s
		case QualityScheme:
			q, err := url.Parse(d.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: quality URL %q", ErrManifest, d.Value)
			}
			v.QualityURL = q.String()
			if base != nil {
				v.QualityURL = base.ResolveReference(q).String()
			}
		}
	}
	st := as.SegmentTemplate
	if st == nil || st.Media == "" || st.Initialization == "" || st.Duration == nil || *st.Duration == 0 {
		return nil, fmt.Errorf("%w: AdaptationSet needs a SegmentTemplate with media, initialization and duration", ErrManifest)
	}
	ts := uint32(1)
	if st.Timescale != nil && *st.Timescale > 0 {
		ts = *st.Timescale
	}
	start := 1
	if st.StartNumber != nil {
		start = int(*st.StartNumber)
	}
	segS := float64(*st.Duration) / float64(ts)
	if !(segS >= 0.01 && segS <= 3600) {
		return nil, fmt.Errorf("%w: segment duration %g s", ErrManifest, segS)
	}
	n := int(math.Ceil(p.DurationS/segS - 1e-9))
	if (n < 1 && (p.Live == nil || p.Live.Ended)) || n > 1<<20 {
		return nil, fmt.Errorf("%w: %d segments", ErrManifest, n)
	}
	if p.Segments == 0 {
		p.SegmentDurationS, p.Segments = segS, n
	} else if math.Abs(p.SegmentDurationS-segS) > 1e-9 {
		return nil, fmt.Errorf("%w: variants with different segment durations", ErrManifest)
	}
	p.Width, p.Height = max(p.Width, int(as.MaxWidth)), max(p.Height, int(as.MaxHeight))
	byID := map[string]*Rep{}
	var layered []*Rep
	for _, r := range as.Representations {
		rep := &Rep{ID: r.Id, BandwidthBPS: int(r.Bandwidth), init: st.Initialization, media: st.Media, base: base, start: start, Layer: -1}
		if rep.ID == "" || byID[rep.ID] != nil {
			return nil, fmt.Errorf("%w: missing or repeated Representation id %q", ErrManifest, rep.ID)
		}
		byID[rep.ID] = rep
		if strings.Contains(rep.ID, "-j") {
			k, err := strconv.Atoi(rep.ID[strings.LastIndex(rep.ID, "-j")+2:])
			if err != nil || k < 1 || k > 64 {
				return nil, fmt.Errorf("%w: joined Representation id %q", ErrManifest, rep.ID)
			}
			rep.Joined = k
			v.Joined = append(v.Joined, rep)
			continue
		}
		deps := 0
		if r.DependencyId != nil {
			deps = len(strings.Fields(string(*r.DependencyId)))
		}
		rep.Layer = deps
		layered = append(layered, rep)
	}
	// Layers are ordered by their dependency depth; each must depend on exactly the lower ones.
	sort.Slice(layered, func(i, j int) bool { return layered[i].Layer < layered[j].Layer })
	for i, r := range layered {
		if r.Layer != i {
			return nil, fmt.Errorf("%w: layer Representations do not form a dependency chain (%s)", ErrManifest, r.ID)
		}
	}
	v.Layers = layered
	sort.Slice(v.Joined, func(i, j int) bool { return v.Joined[i].Joined < v.Joined[j].Joined })
	for i, r := range v.Joined {
		if r.Joined != i+1 {
			return nil, fmt.Errorf("%w: joined Representations are not 1..K", ErrManifest)
		}
	}
	if len(v.Layers) == 0 && len(v.Joined) == 0 {
		return nil, fmt.Errorf("%w: AdaptationSet without Representations", ErrManifest)
	}
	return v, nil
}
