package packager

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/strata-player/strata/decoder/cmaf"
)

// LiveVariant is one sub-GOP variant of a live presentation: its layers' common
// configuration and the Representations' bandwidths (joinedBPS empty: no joined ones).
type LiveVariant struct {
	Base      cmaf.Config
	LayerBPS  []int
	JoinedBPS []int
}

// Live is a live presentation at one moment (ISO/IEC 23009-1 type="dynamic"): segment n
// (0-based; $Number$ n+1) covers media time [n·D, (n+1)·D) and becomes available at
// AvailabilityStart + (n+1)·D, once it is complete.
type Live struct {
	AvailabilityStart, Publish time.Time
	Variants                   []LiveVariant
	// TimeShiftBuffer is how far behind the live edge segments stay available;
	// SuggestedDelay the latency players should keep; MinUpdate how often they should
	// re-read the MPD.
	TimeShiftBuffer, SuggestedDelay, MinUpdate time.Duration
	// Ended, once the stream is over, with its segment count: the MPD then carries
	// mediaPresentationDuration and no minimumUpdatePeriod.
	Ended    bool
	Segments int
	// ModelLayers, if positive, adds the model track: the origin's online-trained
	// enhancement models (enhance/model-<version>.senh) for frames decoded with that many
	// layers.
	ModelLayers int
}

// EnhanceScheme marks the model track's AdaptationSet (value: the layer count its models
// enhance); ModelCodecs is its codecs string.
const (
	EnhanceScheme = "urn:strata:enhance:2026"
	ModelCodecs   = "senh"
)

// UTCDirectScheme is the UTCTiming scheme whose value is the server's time (ISO 8601).
const UTCDirectScheme = "urn:mpeg:dash:utc:direct:2014"

// LiveMPD writes the dynamic MPD of l.
func LiveMPD(l Live) ([]byte, error) {
	if len(l.Variants) == 0 {
		return nil, errors.New("package: a live presentation needs a variant")
	}
	if l.AvailabilityStart.IsZero() || l.Publish.Before(l.AvailabilityStart) {
		return nil, errors.New("package: live availability start and publish time out of order")
	}
	m := mpd.NewMPD("dynamic")
	m.Profiles = m.Profiles.AddProfile(mpd.PROFILE_LIVE)
	m.MinBufferTime = mpd.Ptr(mpd.Duration(2 * time.Second))
	m.AvailabilityStartTime = mpd.DateTime(l.AvailabilityStart.UTC().Format(time.RFC3339Nano))
	m.PublishTime = mpd.DateTime(l.Publish.UTC().Format(time.RFC3339Nano))
	m.TimeShiftBufferDepth = mpd.Ptr(mpd.Duration(l.TimeShiftBuffer))
	m.SuggestedPresentationDelay = mpd.Ptr(mpd.Duration(l.SuggestedDelay))
	first := l.Variants[0].Base
	segD := time.Duration(float64(first.SegmentDuration()) / float64(first.Timescale()) * float64(time.Second))
	if l.Ended {
		m.MediaPresentationDuration = mpd.Ptr(mpd.Duration(time.Duration(l.Segments) * segD))
	} else {
		m.MinimumUpdatePeriod = mpd.Ptr(mpd.Duration(l.MinUpdate))
	}
	period := mpd.NewPeriod()
	period.Id = "0"
	period.Start = mpd.Ptr(mpd.Duration(0))
	m.AppendPeriod(period)
	for i, v := range l.Variants {
		b := v.Base
		if b.SegmentFrames != first.SegmentFrames || b.FPSNum != first.FPSNum || b.FPSDen != first.FPSDen {
			return nil, fmt.Errorf("package: live variant %d has another segment duration", i)
		}
		period.AppendAdaptationSet(VariantSet(b, uint32(i), QualityName(int(b.SubGOP)), v.LayerBPS, v.JoinedBPS))
	}
	if l.ModelLayers > 0 {
		as := mpd.NewAdaptationSetWithParams("application", "application/octet-stream", false, 0)
		as.Id = mpd.Ptr(uint32(len(l.Variants)))
		as.Codecs = ModelCodecs
		as.SupplementalProperties = append(as.SupplementalProperties, mpd.NewDescriptor(EnhanceScheme, fmt.Sprint(l.ModelLayers), ""))
		st := mpd.NewSegmentTemplate()
		st.Media = "enhance/model-$Number$.senh"
		st.StartNumber = mpd.Ptr(uint32(1))
		as.SegmentTemplate = st
		r := mpd.NewRepresentation()
		r.Id = "enhance"
		r.Bandwidth = 1
		as.AppendRepresentation(r)
		period.AppendAdaptationSet(as)
	}
	m.UTCTimings = append(m.UTCTimings, mpd.NewDescriptor(UTCDirectScheme, string(m.PublishTime), ""))
	var buf bytes.Buffer
	if _, err := m.Write(&buf, "  ", true); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
