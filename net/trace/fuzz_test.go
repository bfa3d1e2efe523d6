package trace_test

import (
	"math"
	"testing"

	"github.com/strata-player/strata/abr/sim"
	. "github.com/strata-player/strata/net/trace"
)

// checkTrace is what every successfully parsed trace must satisfy: the network model can
// download through it without looping forever.
func checkTrace(t *testing.T, tr *Trace) {
	if len(tr.TimeS) != len(tr.BandwidthMbps) || len(tr.TimeS) < 2 {
		t.Fatalf("bad lengths %d %d", len(tr.TimeS), len(tr.BandwidthMbps))
	}
	for i := 1; i < len(tr.TimeS); i++ {
		if tr.TimeS[i] < tr.TimeS[i-1] || tr.BandwidthMbps[i] < 0 || math.IsNaN(tr.BandwidthMbps[i]) {
			t.Fatalf("sample %d invalid: %v %v", i, tr.TimeS[i], tr.BandwidthMbps[i])
		}
	}
	env := sim.NewEnv(tr)
	for i := 0; i < 3; i++ {
		st := env.Download(1000, 4)
		if !(st.DelayMs >= sim.LinkRTTMs) || math.IsNaN(st.BufferS) {
			t.Fatalf("download %d: %+v", i, st)
		}
	}
}

func FuzzParseCooked(f *testing.F) {
	f.Add([]byte("0.0\t1.5\n1.0\t2.0\n"))
	f.Add([]byte("0 1\r\n0.5 0\r\n1 3\r\n"))
	f.Add([]byte("1e3 1\n2e3 x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseCooked("fuzz", data)
		if err != nil {
			return
		}
		if tr.TimeS[len(tr.TimeS)-1] > 1e6 { // keep the download walk short
			return
		}
		checkTrace(t, tr)
	})
}

func FuzzParseMahimahi(f *testing.F) {
	f.Add([]byte("0\n0\n5\n12\n12\n100\n"))
	f.Add([]byte("1\n2\n3\n"))
	f.Add([]byte("7\n-1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		tr, err := ParseMahimahi("fuzz", data)
		if err != nil {
			return
		}
		if tr.TimeS[len(tr.TimeS)-1] > 1e4 {
			return
		}
		checkTrace(t, tr)
	})
}

func FuzzParseSabre(f *testing.F) {
	f.Add([]byte(`[{"duration_ms": 840, "bandwidth_kbps": 16823, "latency_ms": 20}]`))
	f.Add([]byte(`[{"duration_ms": 1000, "bandwidth_kbps": 0}, {"duration_ms": 5, "bandwidth_kbps": 10}]`))
	f.Add([]byte(`[{"duration_ms": "x"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseSabre("fuzz", data)
		if err != nil {
			return
		}
		if tr.TimeS[len(tr.TimeS)-1] > 1e6 {
			return
		}
		checkTrace(t, tr)
	})
}
