package cmaf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

func testConfig(layer uint8) Config {
	return Config{Version: 1, Layer: layer, Width: 640, Height: 360, FPSNum: 30000, FPSDen: 1001,
		SegmentFrames: 60, SubGOP: 8, Layers: 4, Model: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}
}

func TestInitAndMediaRoundTrip(t *testing.T) {
	for _, layer := range []uint8{0, 2, Joined} {
		cfg := testConfig(layer)
		if layer == Joined {
			cfg.JoinedLayers = 3
		}
		init, err := BuildInit(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseInit(init)
		if err != nil {
			t.Fatal(err)
		}
		if got != cfg {
			t.Fatalf("config %+v, want %+v", got, cfg)
		}
		if sbas := bytes.Contains(init, []byte("sbas")); sbas != (layer == 2) {
			t.Errorf("layer %d: tref/sbas present = %v", layer, sbas)
		}
		sample := bytes.Repeat([]byte{0xAB, 0x01}, 777)
		media, err := BuildMedia(cfg, 5, sample)
		if err != nil {
			t.Fatal(err)
		}
		seg, data, err := ParseMedia(cfg, media)
		if err != nil {
			t.Fatal(err)
		}
		if seg != 5 || !bytes.Equal(data, sample) {
			t.Fatalf("segment %d, %d bytes", seg, len(data))
		}
		if _, _, err := ParseMedia(cfg, media[:len(media)-10]); err == nil {
			t.Error("truncated media segment accepted")
		}
	}
	if _, err := ParseInit([]byte("garbage")); !errors.Is(err, ErrCMAF) {
		t.Errorf("garbage init: %v", err)
	}
}

func TestJoinSplit(t *testing.T) {
	units := [][]byte{[]byte("base"), {}, []byte("layer two")}
	got, err := Split(Join(units), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range units {
		if !bytes.Equal(got[i], units[i]) {
			t.Fatalf("unit %d", i)
		}
	}
	for _, bad := range [][]byte{{0, 0}, {0, 0, 0, 9, 1}} {
		if _, err := Split(bad, 1); err == nil {
			t.Errorf("Split(%x) accepted", bad)
		}
	}
	if _, err := Split(Join(units), 2); err == nil {
		t.Error("wrong unit count accepted")
	}
}

// TestFFprobeReadsSegments checks that ffprobe (when installed) sees our track as nvc1.
func TestFFprobeReadsSegments(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	cfg := testConfig(0)
	init, _ := BuildInit(cfg)
	media, _ := BuildMedia(cfg, 0, []byte("unit bytes"))
	p := filepath.Join(t.TempDir(), "seg.mp4")
	if err := os.WriteFile(p, append(init, media...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_tag_string,width,height", "-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "nvc1") || !strings.Contains(string(out), "640") {
		t.Fatalf("ffprobe says %q", out)
	}
}

func FuzzParseMedia(f *testing.F) {
	cfg := testConfig(0)
	m, _ := BuildMedia(cfg, 3, []byte("sample"))
	f.Add(m)
	i, _ := BuildInit(cfg)
	f.Add(i)
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseMedia(cfg, b)
		ParseInit(b)
	})
}

// An init segment whose sample table lacks stsd (or whose track lacks mdia, minf or stbl)
// is an error, not a nil dereference (found by FuzzParseMedia).
func TestParseInitMissingBoxes(t *testing.T) {
	cfg := testConfig(0)
	for _, drop := range []string{"stsd", "stbl", "minf", "mdia"} {
		init := mp4.NewMP4Init()
		init.AddChild(mp4.NewFtyp("cmf2", 0, []string{"cmfc"}))
		moov := mp4.NewMoovBox()
		init.AddChild(moov)
		moov.AddChild(mp4.CreateMvhd())
		trak := mp4.CreateEmptyTrak(cfg.TrackID(), cfg.Timescale(), "video", "und")
		moov.AddChild(trak)
		switch drop {
		case "stsd":
			trak.Mdia.Minf.Stbl.Children = removeBox(trak.Mdia.Minf.Stbl.Children, "stsd")
		case "stbl":
			trak.Mdia.Minf.Children = removeBox(trak.Mdia.Minf.Children, "stbl")
		case "minf":
			trak.Mdia.Children = removeBox(trak.Mdia.Children, "minf")
		case "mdia":
			trak.Children = removeBox(trak.Children, "mdia")
		}
		var b bytes.Buffer
		if err := init.Encode(&b); err != nil {
			t.Fatal(err)
		}
		_, err := ParseInit(b.Bytes())
		if !errors.Is(err, ErrCMAF) {
			t.Errorf("init without %s: err %v, want ErrCMAF", drop, err)
		}
	}
}

func removeBox(children []mp4.Box, typ string) []mp4.Box {
	var out []mp4.Box
	for _, c := range children {
		if c.Type() != typ {
			out = append(out, c)
		}
	}
	return out
}
