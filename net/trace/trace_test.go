package trace

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseCooked(t *testing.T) {
	tr, err := ParseCooked("a.txt", []byte("0.0\t1.5\r\n1.0 2.5 extra\n\n2.0\t0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.TimeS) != 3 || tr.BandwidthMbps[1] != 2.5 || tr.TimeS[2] != 2 {
		t.Fatalf("got %+v", tr)
	}
	if m := tr.MeanMbps(); math.Abs(m-1.25) > 1e-12 {
		t.Fatalf("mean %v", m)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, data, want string
		parse            func(string, []byte) (*Trace, error)
	}{
		{"cooked-nan", "0 1\n1 x\n", "c.txt:2: bandwidth", ParseCooked},
		{"cooked-one-field", "0 1\n1\n", "c.txt:2: want", ParseCooked},
		{"cooked-backwards", "0 1\n2 1\n1 1\n", "c.txt:3: time 1 goes backwards", ParseCooked},
		{"cooked-negative", "0 1\n1 -1\n", "c.txt:2: negative", ParseCooked},
		{"cooked-short", "0 1\n", "c.txt: need at least 2", ParseCooked},
		{"cooked-dead", "0 5\n1 0\n2 0\n", "no interval with positive bandwidth", ParseCooked},
		{"mahimahi-text", "1\n2\nabc\n", "c.txt:3: want a millisecond", ParseMahimahi},
		{"mahimahi-backwards", "5\n3\n", "c.txt:2: timestamp 3 goes backwards", ParseMahimahi},
		{"mahimahi-empty", "\n", "no timestamps", ParseMahimahi},
		{"sabre-not-array", "{}", "c.txt:1: not a JSON array", ParseSabre},
		{"sabre-missing", "[\n {\"duration_ms\": 1000, \"bandwidth_kbps\": 5},\n {\"duration_ms\": 1000}\n]", "c.txt:3: sample 1: needs", ParseSabre},
		{"sabre-range", "[\n{\"duration_ms\": -1, \"bandwidth_kbps\": 5}]", "c.txt:2: sample 0: duration", ParseSabre},
		{"sabre-trailing", "[{\"duration_ms\": 1, \"bandwidth_kbps\": 5}] x", "trailing data", ParseSabre},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.parse("c.txt", []byte(c.data))
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, c.want)
			}
		})
	}
}

func TestParseMahimahi(t *testing.T) {
	// 10 packets in the first 100 ms, 5 in the next, period 200 ms.
	var b strings.Builder
	for i := 0; i < 10; i++ {
		b.WriteString("10\n")
	}
	for i := 0; i < 5; i++ {
		b.WriteString("200\n")
	}
	tr, err := ParseMahimahi("m", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.2, 1.2, 0.6} // 10·1500·8 bits / 0.1 s = 1.2 Mbit/s
	for i, w := range want {
		if math.Abs(tr.BandwidthMbps[i]-w) > 1e-9 {
			t.Fatalf("bw %v, want %v", tr.BandwidthMbps, want)
		}
	}
	if tr.TimeS[2] != 0.2 {
		t.Fatalf("times %v", tr.TimeS)
	}
}

func TestParseSabre(t *testing.T) {
	tr, err := ParseSabre("s", []byte(`[{"duration_ms": 500, "bandwidth_kbps": 2000, "latency_ms": 20},
		{"duration_ms": 1500, "bandwidth_kbps": 1000, "latency_ms": 40}]`))
	if err != nil {
		t.Fatal(err)
	}
	if tr.TimeS[2] != 2 || tr.BandwidthMbps[1] != 2 || tr.BandwidthMbps[2] != 1 || tr.LatencyMs != 30 {
		t.Fatalf("got %+v", tr)
	}
}

func TestDetectFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"\n [{}]":    FormatSabre,
		"\n12\n13\n": FormatMahimahi,
		"0.0 1.2\n":  FormatCooked,
		"0\t1\n":     FormatCooked,
		"garbage":    FormatCooked,
	} {
		if got := DetectFormat([]byte(in)); got != want {
			t.Errorf("DetectFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// Found by FuzzParseMahimahi: one far timestamp made one bin per 100 ms of its period
// (10^8 bins, 1.4 GB); a trickle of bandwidth made every download loop forever.
func TestParseAbsurdTraces(t *testing.T) {
	tr, err := ParseMahimahi("far", []byte("9000500000"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.TimeS) > 3 {
		t.Fatalf("one timestamp gave %d samples", len(tr.TimeS))
	}
	if tr.TimeS[len(tr.TimeS)-1] != 9000500 {
		t.Fatalf("period %v s", tr.TimeS[len(tr.TimeS)-1])
	}
	// Gaps become one zero interval, packets keep their bins.
	tr, err = ParseMahimahi("gap", []byte("50\n50\n1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantT := []float64{0, 0.1, 0.9, 1}
	wantB := []float64{0.24, 0.24, 0, 0.12}
	for i := range wantT {
		if math.Abs(tr.TimeS[i]-wantT[i]) > 1e-12 || math.Abs(tr.BandwidthMbps[i]-wantB[i]) > 1e-12 {
			t.Fatalf("got %v %v, want %v %v", tr.TimeS, tr.BandwidthMbps, wantT, wantB)
		}
	}
	for _, in := range []string{"0 1e-18\n1 1e-18\n", "0 1e-18\n1e6 1e-18\n"} {
		if _, err := ParseCooked("trickle", []byte(in)); err == nil || !strings.Contains(err.Error(), "less than 1000") {
			t.Errorf("%q: err %v, want a trickle rejected", in, err)
		}
	}
}
