package packager

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/decoder/cmaf"
	"github.com/strata-player/strata/encoder"
	"github.com/strata-player/strata/internal/testenc"
)

func TestPackageRoundTrip(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	frames := testenc.Synthetic(48, 32, 10)
	d4, e4 := testenc.EncodeDir(t, m, frames, 4, 3, 5)
	d8, e8 := testenc.EncodeDir(t, m, frames, 8, 3, 5)
	out := t.TempDir()
	written, err := Package([]string{d4, d8}, out, Options{Joined: JoinedFiles})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "manifest.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mpd.ReadFromString(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := parsed.WriteToString("  ", true)
	if again != string(raw) {
		t.Error("MPD does not survive a parse/write round trip byte for byte")
	}
	orig, _ := written.WriteToString("  ", true)
	if orig != string(raw) {
		t.Error("written MPD differs from the returned one")
	}
	encs := map[string][]*encoder.Encoded{"4": e4, "8": e8}
	sets := parsed.Periods[0].AdaptationSets
	if len(sets) != 2 {
		t.Fatalf("%d adaptation sets", len(sets))
	}
	for _, as := range sets {
		var s string
		for _, p := range as.SupplementalProperties {
			if p.SchemeIdUri == SubGOPScheme {
				s = p.Value
			}
		}
		if encs[s] == nil {
			t.Fatalf("adaptation set without a known sub-GOP property: %q", s)
		}
		if len(as.Representations) != 6 {
			t.Fatalf("S=%s: %d representations, want 3 layers + 3 joined", s, len(as.Representations))
		}
		if dep := as.Representations[2].DependencyId; dep == nil || string(*dep) != "s"+s+"-l0 s"+s+"-l1" {
			t.Errorf("S=%s layer 2 dependencyId %v", s, dep)
		}
		dec := decoder.NewSegmentDecoder(m, 1)
		for seg := 1; seg <= 2; seg++ {
			// Layer by layer...
			var units [][]byte
			for l := 0; l < 3; l++ {
				rep := "s" + s + "-l" + string(rune('0'+l))
				cfg := readInitFile(t, out, rep)
				num, data, err := cmaf.ParseMedia(cfg, readFile(t, out, rep, MediaName(seg)))
				if err != nil || int(num) != seg-1 {
					t.Fatalf("%s segment %d: %v (number %d)", rep, seg, err, num)
				}
				units = append(units, data)
			}
			// ...and joined: the same bytes.
			cfg := readInitFile(t, out, "s"+s+"-j3")
			_, joined, err := cmaf.ParseMedia(cfg, readFile(t, out, "s"+s+"-j3", MediaName(seg)))
			if err != nil {
				t.Fatal(err)
			}
			split, err := cmaf.Split(joined, 3)
			if err != nil {
				t.Fatal(err)
			}
			for l := range units {
				if !bytes.Equal(split[l], units[l]) {
					t.Fatalf("joined unit %d differs", l)
				}
			}
			sg, err := decoder.ParseBaseUnit(units[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range units[1:] {
				if err := sg.AddUnit(u); err != nil {
					t.Fatal(err)
				}
			}
			got, err := dec.Decode(sg, 3)
			if err != nil {
				t.Fatal(err)
			}
			want := encs[s][seg-1].Recon[2]
			for f := range got {
				if !bytes.Equal(got[f].Y, want[f].Y) {
					t.Fatalf("S=%s segment %d frame %d decodes differently after packaging", s, seg, f)
				}
			}
		}
	}
	if q, err := os.ReadFile(filepath.Join(out, "quality-s8.json")); err != nil || !strings.Contains(string(q), "psnr_y") {
		t.Errorf("quality sidecar: %v", err)
	}
}

func readFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readInitFile(t *testing.T, out, rep string) cmaf.Config {
	t.Helper()
	cfg, err := cmaf.ParseInit(readFile(t, out, rep, InitName))
	if err != nil {
		t.Fatalf("%s: %v", rep, err)
	}
	return cfg
}

// TestJoinedVirtualMatchesFiles: joined segments built on request equal written ones.
func TestJoinedVirtualMatchesFiles(t *testing.T) {
	m, err := decoder.Default()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := testenc.EncodeDir(t, m, testenc.Synthetic(48, 32, 6), 4, 3, 3)
	files, virtual := t.TempDir(), t.TempDir()
	if _, err := Package([]string{d}, files, Options{Joined: JoinedFiles}); err != nil {
		t.Fatal(err)
	}
	if _, err := Package([]string{d}, virtual, Options{Joined: JoinedVirtual}); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(virtual)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	src := JoinedSource(root)
	for k := 1; k <= 3; k++ {
		for n := 1; n <= 2; n++ {
			name := filepath.Join(JoinedID(4, k), MediaName(n))
			if _, err := os.Stat(filepath.Join(virtual, name)); err == nil {
				t.Fatalf("virtual packaging wrote %s", name)
			}
			got, err := src(name)
			if err != nil {
				t.Fatal(err)
			}
			if want := readFile(t, files, name); !bytes.Equal(got, want) {
				t.Fatalf("%s: built segment differs from the written one", name)
			}
		}
	}
	for _, bad := range []string{"s4-j9/seg-1.m4s", "s4-j1/seg-9.m4s", "s4-l0/seg-1.m4s", "../x"} {
		if _, err := src(bad); err == nil {
			t.Errorf("%s built", bad)
		}
	}
}
