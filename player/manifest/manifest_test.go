package manifest

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
)

func TestParsePackagerOutput(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 8)
	d4, _ := testenc.EncodeDir(t, m, frames, 4, 2, 4)
	d8, _ := testenc.EncodeDir(t, m, frames, 8, 2, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{d8, d4}, out, packager.Options{Joined: packager.JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://127.0.0.1:4433/demo/manifest.mpd")
	p, err := Parse(raw, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Variants) != 2 || p.Variants[0].SubGOP != 4 || p.Segments != 2 || p.SegmentDurationS != 4.0/25 {
		t.Fatalf("presentation %+v", p)
	}
	v := p.Variant(8)
	if len(v.Layers) != 2 || len(v.Joined) != 2 || v.Layers[1].Layer != 1 {
		t.Fatalf("variant %+v", v)
	}
	if got := v.Layers[1].MediaURL(1); got != "https://127.0.0.1:4433/demo/s8-l1/seg-2.m4s" {
		t.Errorf("media URL %s", got)
	}
	if got := v.Joined[1].InitURL(); got != "https://127.0.0.1:4433/demo/s8-j2/init.mp4" {
		t.Errorf("init URL %s", got)
	}
	if v.QualityURL != "https://127.0.0.1:4433/demo/quality-s8.json" {
		t.Errorf("quality URL %s", v.QualityURL)
	}
}

func TestExpand(t *testing.T) {
	if got := expand("$RepresentationID$/n$Number%05d$-$Bandwidth$-$$.m4s", "a", 7, 900); got != "a/n00007-900-$.m4s" {
		t.Fatalf("expand: %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	ok := `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period>` +
		`<AdaptationSet codecs="nvc1"><SegmentTemplate media="$RepresentationID$/$Number$.m4s" initialization="$RepresentationID$/i.mp4" duration="2" timescale="1"/>` +
		`<Representation id="l0" bandwidth="1"/>%s</AdaptationSet></Period></MPD>`
	if _, err := Parse([]byte(strings.Replace(ok, "%s", "", 1)), nil); err != nil {
		t.Fatalf("minimal MPD: %v", err)
	}
	for name, doc := range map[string]string{
		"not xml":        "<MPD",
		"dynamic":        strings.Replace(ok, `type="static"`, `type="dynamic"`, 1),
		"no duration":    strings.Replace(ok, `mediaPresentationDuration="PT4S"`, "", 1),
		"no template":    strings.Replace(ok, `duration="2"`, "", 1),
		"broken chain":   strings.Replace(ok, "%s", `<Representation id="l2" bandwidth="1" dependencyId="a b"/>`, 1),
		"duplicate id":   strings.Replace(ok, "%s", `<Representation id="l0" bandwidth="1"/>`, 1),
		"bad subgop":     strings.Replace(ok, "%s", `</AdaptationSet><AdaptationSet codecs="nvc1"><SupplementalProperty schemeIdUri="urn:strata:subgop:2026" value="3"/>`, 1),
		"no nvc1 at all": strings.ReplaceAll(ok, "nvc1", "avc1"),
	} {
		if _, err := Parse([]byte(strings.Replace(doc, "%s", "", 1)), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet codecs="nvc1"><SegmentTemplate media="$RepresentationID$/$Number$.m4s" initialization="i" duration="2"/><Representation id="a" bandwidth="1"/></AdaptationSet></Period></MPD>`))
	f.Add([]byte("<MPD/>"))
	f.Add([]byte(liveMPD))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, nil)
		if err != nil {
			return
		}
		if p.Live != nil && (p.Live.AvailabilityStart.IsZero() || !p.Live.Ended && p.Segments != 0 || p.Live.Ended && p.Segments < 1) {
			t.Fatalf("live presentation %+v %+v", p, p.Live)
		}
		for _, v := range p.Variants {
			for _, r := range append(v.Layers, v.Joined...) {
				_ = r.MediaURL(p.Segments - 1)
			}
		}
	})
}

// liveMPD is what live publishes while a stream goes on.
const liveMPD = `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2026-12-02T13:12:27.719601837Z" publishTime="2026-12-02T13:12:35.80804068Z" minimumUpdatePeriod="PT2S" minBufferTime="PT2S" timeShiftBufferDepth="PT1M" suggestedPresentationDelay="PT6S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" maxWidth="640" maxHeight="360" segmentAlignment="true" frameRate="20/1" mimeType="video/mp4" codecs="nvc1" startWithSAP="1">
      <SupplementalProperty schemeIdUri="urn:strata:subgop:2026" value="32"></SupplementalProperty>
      <SupplementalProperty schemeIdUri="urn:strata:quality:2026" value="quality-s32.json"></SupplementalProperty>
      <SegmentTemplate media="$RepresentationID$/seg-$Number$.m4s" initialization="$RepresentationID$/init.mp4" duration="40" startNumber="1" timescale="20"></SegmentTemplate>
      <Representation id="s32-l0" bandwidth="81257"></Representation>
      <Representation id="s32-l1" bandwidth="174137" dependencyId="s32-l0"></Representation>
      <Representation id="s32-j1" bandwidth="81257"></Representation>
      <Representation id="s32-j2" bandwidth="243777"></Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-12-02T13:12:35.80804068Z"></UTCTiming>
</MPD>`

func TestParseLive(t *testing.T) {
	p, err := Parse([]byte(liveMPD), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := p.Live
	if l == nil || l.Ended || p.Segments != 0 || l.MinUpdateS != 2 || l.TimeShiftS != 60 || l.SuggestedDelayS != 6 || p.SegmentDurationS != 2 {
		t.Fatalf("%+v %+v", p, l)
	}
	if got := l.Available(2, 2).Sub(l.AvailabilityStart); got != 6*time.Second {
		t.Errorf("segment 2 available %v after the start", got)
	}
	ended := strings.Replace(liveMPD, `minimumUpdatePeriod="PT2S"`, `mediaPresentationDuration="PT10S"`, 1)
	if p, err = Parse([]byte(ended), nil); err != nil || !p.Live.Ended || p.Segments != 5 || p.Live.MinUpdateS != 0 {
		t.Fatalf("ended: %+v (%v)", p, err)
	}
	for _, bad := range []string{
		strings.Replace(liveMPD, `availabilityStartTime="2026-12-02T13:12:27.719601837Z"`, "", 1),
		strings.Replace(liveMPD, `2026-12-02T13:12:27.719601837Z`, "yesterday", 1),
		strings.Replace(liveMPD, `2026-12-02T13:12:27.719601837Z`, "0001-01-01T00:00:00Z", 1),
		strings.Replace(liveMPD, `timeShiftBufferDepth="PT1M"`, `timeShiftBufferDepth="P30D"`, 1),
		strings.Replace(liveMPD, `start="PT0S"`, `start="PT5S"`, 1),
		strings.Replace(liveMPD, `type="dynamic"`, `type="live"`, 1),
		strings.Replace(liveMPD, `duration="40"`, `duration="400000"`, 1),
	} {
		if _, err := Parse([]byte(bad), nil); err == nil {
			t.Errorf("accepted:\n%s", bad[:300])
		}
	}
}
