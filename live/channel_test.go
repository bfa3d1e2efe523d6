package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/decoder/stream"
	"github.com/strata-player/strata/encoder/packager"
	"github.com/strata-player/strata/internal/testenc"
	"github.com/strata-player/strata/player/manifest"
)

const testToken = "0123456789abcdef-test"

// testSource encodes a synthetic 48×32 clip (S = 4, 4-frame segments at 25 fps: 0.16 s)
// with the given layers and segments, packages it and reads it back as a live source.
func testSource(t testing.TB, layers, segs int) *Source {
	t.Helper()
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := testenc.EncodeDir(t, m, testenc.Synthetic(48, 32, 4*segs), 4, layers, 4)
	out := t.TempDir()
	if _, err := packager.Package([]string{dir}, out, packager.Options{Joined: packager.JoinedNone}); err != nil {
		t.Fatal(err)
	}
	src, err := ReadPackaged(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// ingest sends one streamer request to the channel's handler and returns the status.
func ingest(c *Channel, method, path, token string, body []byte) int {
	req := httptest.NewRequest(method, "/"+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	c.IngestHandler().ServeHTTP(rec, req)
	return rec.Code
}

// publish uploads the inits, then segment n (source segment n mod N) with k layers and its row.
func publishInits(t *testing.T, c *Channel, v *SourceVariant) {
	t.Helper()
	for l := 0; l < int(v.Base.Layers); l++ {
		cfg := v.Base
		cfg.Layer = uint8(l)
		b, _ := cmaf.BuildInit(cfg)
		if code := ingest(c, "PUT", packager.LayerID(int(cfg.SubGOP), l)+"/init.mp4", testToken, b); code != http.StatusNoContent {
			t.Fatalf("init of layer %d: HTTP %d", l, code)
		}
	}
}

func publish(t *testing.T, c *Channel, v *SourceVariant, n, k int) {
	t.Helper()
	src := n % len(v.Rows)
	for l := 0; l < k; l++ {
		cfg := v.Base
		cfg.Layer = uint8(l)
		b, _ := cmaf.BuildMedia(cfg, uint32(n), v.Units[src][l])
		if code := ingest(c, "PUT", fmt.Sprintf("%s/seg-%d.m4s", packager.LayerID(int(cfg.SubGOP), l), n+1), testToken, b); code != http.StatusNoContent {
			t.Fatalf("segment %d layer %d: HTTP %d", n, l, code)
		}
	}
	row := v.Rows[src]
	row.Segment, row.Levels = n, row.Levels[:k]
	b, _ := json.Marshal(row)
	if code := ingest(c, "PUT", fmt.Sprintf("quality-s%d/seg-%d.json", v.Base.SubGOP, n+1), testToken, b); code != http.StatusNoContent {
		t.Fatalf("row of segment %d: HTTP %d", n, code)
	}
}

func TestChannelPublishes(t *testing.T) {
	src := testSource(t, 3, 3)
	v := src.Variants[0]
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	c, err := NewChannel(Config{Token: testToken, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	publishInits(t, c, v)
	if _, err := c.Source("manifest.mpd"); err == nil {
		t.Fatal("an MPD before the first segment")
	}
	publish(t, c, v, 0, 3)
	now = now.Add(160 * time.Millisecond)
	publish(t, c, v, 1, 2) // the uplink carried two layers only
	mpd, err := c.Source("manifest.mpd")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://origin/manifest.mpd")
	p, err := manifest.Parse(mpd, base)
	if err != nil {
		t.Fatalf("%v\n%s", err, mpd)
	}
	wantAST := now.Add(-2 * 160 * time.Millisecond)
	if p.Live == nil || p.Live.Ended || p.Segments != 0 || !p.Live.AvailabilityStart.Equal(wantAST) ||
		p.Live.SuggestedDelayS != 0.48 || p.Live.MinUpdateS != 0.16 || p.Live.TimeShiftS != 60 {
		t.Fatalf("live presentation %+v %+v (AST want %v)", p, p.Live, wantAST)
	}
	if got := p.Live.Available(1, p.SegmentDurationS); !got.Equal(now) {
		t.Errorf("segment 1 available at %v, want %v", got, now)
	}
	var si stream.Info
	q, _ := c.Source("quality-s4.json")
	if err := json.Unmarshal(q, &si); err != nil || si.Live == nil || si.Segments != 2 || len(si.Quality) != 2 || len(si.Quality[1].Levels) != 2 {
		t.Fatalf("sidecar %s (%v)", q, err)
	}
	// Layer and joined media segments are rebuilt from the units, numbered as published.
	got, err := c.Source("s4-l1/seg-1.m4s")
	cfg := v.Base
	cfg.Layer = 1
	want, _ := cmaf.BuildMedia(cfg, 0, v.Units[0][1])
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("s4-l1 segment 1: %v", err)
	}
	j, err := c.Source("s4-j2/seg-2.m4s")
	if err != nil {
		t.Fatal(err)
	}
	jcfg := v.Base
	jcfg.Layer, jcfg.JoinedLayers = cmaf.Joined, 2
	num, data, err := cmaf.ParseMedia(jcfg, j)
	if err != nil || num != 1 {
		t.Fatalf("joined: %d %v", num, err)
	}
	units, err := cmaf.Split(data, 2)
	if err != nil || !bytes.Equal(units[1], v.Units[1][1]) {
		t.Fatalf("joined units: %v", err)
	}
	for _, missing := range []string{"s4-l2/seg-2.m4s", "s4-j3/seg-2.m4s", "s4-l0/seg-3.m4s", "s8-l0/init.mp4", "quality-s8.json", "../x", "s4-l0/seg-0.m4s"} {
		if _, err := c.Source(missing); err == nil {
			t.Errorf("%s: served", missing)
		}
	}
	if _, err := c.Source("s4-j3/init.mp4"); err != nil {
		t.Errorf("joined init: %v", err)
	}
	// The end: the MPD gets a duration, the sidecar says so, uploads are refused.
	if code := ingest(c, "POST", "end", testToken, nil); code != http.StatusNoContent {
		t.Fatalf("end: HTTP %d", code)
	}
	mpd, _ = c.Source("manifest.mpd")
	if p, err = manifest.Parse(mpd, base); err != nil || !p.Live.Ended || p.Segments != 2 || p.Live.MinUpdateS != 0 {
		t.Fatalf("ended presentation %+v (%v)", p, err)
	}
	cfg.Layer = 0
	b, _ := cmaf.BuildMedia(cfg, 2, v.Units[2][0])
	if code := ingest(c, "PUT", "s4-l0/seg-3.m4s", testToken, b); code != http.StatusConflict {
		t.Errorf("upload after the end: HTTP %d", code)
	}
}

func TestIngestRejects(t *testing.T) {
	src := testSource(t, 2, 2)
	v := src.Variants[0]
	c, err := NewChannel(Config{Token: testToken, MaxUnitBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	init0, _ := cmaf.BuildInit(v.Base)
	seg := func(n, l, num int) []byte {
		cfg := v.Base
		cfg.Layer = uint8(l)
		b, _ := cmaf.BuildMedia(cfg, uint32(num), v.Units[n][l])
		return b
	}
	row := func(n int, mod func(*stream.SegQ)) []byte {
		r := v.Rows[n]
		r.Segment = n
		r.Levels = append([]stream.Level(nil), r.Levels...)
		mod(&r)
		b, _ := json.Marshal(r)
		return b
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      []byte
		want                      int
	}{
		{"no token", "PUT", "s4-l0/init.mp4", "", init0, 401},
		{"wrong token", "PUT", "s4-l0/init.mp4", testToken + "x", init0, 401},
		{"GET", "GET", "s4-l0/init.mp4", testToken, nil, 405},
		{"unknown path", "PUT", "s4-l0/other", testToken, init0, 404},
		{"segment 0 in a 1-based path", "PUT", "s4-l0/seg-0.m4s", testToken, seg(0, 0, 0), 404},
		{"media before its init", "PUT", "s4-l0/seg-1.m4s", testToken, seg(0, 0, 0), 409},
		{"garbage init", "PUT", "s4-l0/init.mp4", testToken, []byte("not an init"), 400},
		{"init under another layer's name", "PUT", "s4-l1/init.mp4", testToken, init0, 400},
		{"init", "PUT", "s4-l0/init.mp4", testToken, init0, 204},
		{"too large", "PUT", "s4-l0/seg-1.m4s", testToken, make([]byte, 5000), 413},
		{"garbage media", "PUT", "s4-l0/seg-1.m4s", testToken, []byte("garbage"), 400},
		{"number mismatch", "PUT", "s4-l0/seg-1.m4s", testToken, seg(0, 0, 1), 400},
		{"segment 1", "PUT", "s4-l0/seg-1.m4s", testToken, seg(0, 0, 0), 204},
		{"row naming a layer not uploaded", "PUT", "quality-s4/seg-1.json", testToken, row(0, func(*stream.SegQ) {}), 409},
		{"row with NaN-free but absurd PSNR", "PUT", "quality-s4/seg-1.json", testToken, row(0, func(r *stream.SegQ) { r.Levels = r.Levels[:1]; r.Levels[0].PSNRY = 1e9 }), 400},
		{"row of another segment", "PUT", "quality-s4/seg-1.json", testToken, row(1, func(r *stream.SegQ) { r.Levels = r.Levels[:1] }), 400},
		{"row not JSON", "PUT", "quality-s4/seg-1.json", testToken, []byte("{"), 400},
		{"row", "PUT", "quality-s4/seg-1.json", testToken, row(0, func(r *stream.SegQ) { r.Levels = r.Levels[:1] }), 204},
		{"republish", "PUT", "quality-s4/seg-1.json", testToken, row(0, func(r *stream.SegQ) { r.Levels = r.Levels[:1] }), 409},
		{"far ahead of the edge", "PUT", "s4-l0/seg-9.m4s", testToken, seg(0, 0, 8), 409},
		{"new variant once live", "PUT", "s8-l0/init.mp4", testToken, func() []byte { b := v.Base; b.SubGOP = 8; x, _ := cmaf.BuildInit(b); return x }(), 409},
	} {
		if got := ingest(c, tc.method, tc.path, tc.token, tc.body); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := NewChannel(Config{Token: "short"}); err == nil {
		t.Error("a short token was accepted")
	}
}

func TestChannelWindowIsBounded(t *testing.T) {
	src := testSource(t, 2, 2)
	v := src.Variants[0]
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	// 1 s of window: ⌈1 / 0.16⌉ = 7 segments.
	c, err := NewChannel(Config{Token: testToken, Window: time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	publishInits(t, c, v)
	for n := 0; n < 40; n++ {
		publish(t, c, v, n, 2)
		now = now.Add(160 * time.Millisecond)
		if st := c.Status(); st.Held > 7 || st.Edge != n+1 {
			t.Fatalf("after segment %d: %+v", n, st)
		}
	}
	if _, err := c.Source("s4-l0/seg-33.m4s"); err == nil {
		t.Error("a segment behind the window is served")
	}
	if _, err := c.Source("s4-l0/seg-34.m4s"); err != nil {
		t.Errorf("the window's oldest segment: %v", err)
	}
	var si stream.Info
	q, _ := c.Source("quality-s4.json")
	if err := json.Unmarshal(q, &si); err != nil || si.Live.First != 33 || len(si.Quality) != 7 || si.Quality[0].Segment != 33 {
		t.Fatalf("sidecar window: %v %+v", err, si.Live)
	}
	if code := ingest(c, "PUT", "s4-l0/seg-3.m4s", testToken, nil); code == http.StatusNoContent {
		t.Error("an upload far behind the edge was taken")
	}
	if !strings.Contains(string(q), `"first_segment":33`) {
		t.Errorf("sidecar: %s", q)
	}
}

// FuzzIngest feeds arbitrary streamer requests to a channel that has a variant and a
// published segment: no panic, and what it serves afterwards stays well-formed.
func FuzzIngest(f *testing.F) {
	src := testSource(f, 2, 2)
	v := src.Variants[0]
	init1 := func() []byte { c := v.Base; c.Layer = 1; b, _ := cmaf.BuildInit(c); return b }()
	seg := func(n, l int) []byte {
		c := v.Base
		c.Layer = uint8(l)
		b, _ := cmaf.BuildMedia(c, uint32(n), v.Units[n%2][l])
		return b
	}
	row, _ := json.Marshal(v.Rows[1])
	f.Add("s4-l1/init.mp4", init1)
	f.Add("s4-l0/seg-2.m4s", seg(1, 0))
	f.Add("s4-l1/seg-2.m4s", seg(1, 1))
	f.Add("quality-s4/seg-2.json", row)
	f.Add("end", []byte(nil))
	f.Add("s4-l0/seg-99999999.m4s", seg(0, 0))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		c, err := NewChannel(Config{Token: testToken, Window: time.Second, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		publishInits(t, c, v)
		publish(t, c, v, 0, 2)
		_ = c.route(path, body)
		if st := c.Status(); st.Held > 1+maxAhead || st.Edge < 1 {
			t.Fatalf("channel %+v", st)
		}
		mpd, err := c.Source("manifest.mpd")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := manifest.Parse(mpd, nil); err != nil {
			t.Fatalf("the MPD no longer parses: %v", err)
		}
		var si stream.Info
		q, err := c.Source("quality-s4.json")
		if err != nil || json.Unmarshal(q, &si) != nil || len(si.Quality) != si.Segments-si.Live.First {
			t.Fatalf("sidecar %s (%v)", q, err)
		}
	})
}

func TestPatchBundle(t *testing.T) {
	ps := []SourcePatch{{Frame: 3, X: 16, Y: 32, Size: 16, Luma: bytes.Repeat([]byte{7, 200}, 128)}, {Frame: 0, X: 0, Y: 0, Size: 32, Luma: make([]byte, 1024)}}
	b, err := MarshalPatches(ps)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePatches(b)
	if err != nil || len(back) != 2 || back[0].Frame != 3 || back[0].X != 16 || !bytes.Equal(back[0].Luma, ps[0].Luma) || back[1].Size != 32 {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(bytes.Clone(b), 0), []byte("SPAT\x02\x00\x00")} {
		if _, err := ParsePatches(bad); err == nil {
			t.Errorf("accepted %d bytes", len(bad))
		}
	}
}

func FuzzParsePatches(f *testing.F) {
	b, _ := MarshalPatches([]SourcePatch{{Frame: 1, X: 2, Y: 3, Size: 16, Luma: make([]byte, 256)}})
	f.Add(b)
	f.Add([]byte("SPAT\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParsePatches(b)
		if err != nil {
			return
		}
		for _, p := range ps {
			if len(p.Luma) != p.Size*p.Size || p.Size < 16 || p.Size > maxPatchSize {
				t.Fatalf("patch %d×%d with %d bytes", p.Size, p.Size, len(p.Luma))
			}
		}
	})
}
