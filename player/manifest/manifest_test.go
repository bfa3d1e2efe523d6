package manifest

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-player/strata/decoder/nvc2"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
)

func TestParsePackagerOutput(t *testing.T) {
	m, err := nvc2.Default()
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
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, nil)
		if err != nil {
			return
		}
		for _, v := range p.Variants {
			for _, r := range append(v.Layers, v.Joined...) {
				_ = r.MediaURL(p.Segments - 1)
			}
		}
	})
}
