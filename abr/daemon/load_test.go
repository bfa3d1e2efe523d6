package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkDaemonLoad is the daemon's capacity over loopback HTTP: N concurrent sessions
// (goroutines with their own keep-alive connection), each creating a session on a 6-rung
// ladder and asking for decisions back to back. It reports decisions/s and the p50/p99
// latency of one decision request.
//
//	go test ./abr/daemon -run '^$' -bench DaemonLoad -benchtime 4000x
func BenchmarkDaemonLoad(b *testing.B) {
	for _, policy := range []string{"mpc", "learned", "bola"} {
		for _, n := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/sessions=%d", policy, n), func(b *testing.B) { loadRun(b, policy, n) })
		}
	}
}

func loadRun(b *testing.B, policy string, sessions int) {
	srv := httptest.NewServer(New(Config{MaxSessions: 10000}))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: sessions, MaxConnsPerHost: sessions}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	post := func(path string, body any) (*http.Response, error) {
		raw, _ := json.Marshal(body)
		return client.Post(srv.URL+path, "application/json", bytes.NewReader(raw))
	}
	ladderReq := CreateRequest{Policy: policy, SegmentDurationS: 4, Segments: 0}
	for i, bps := range []int64{300e3, 750e3, 1200e3, 1850e3, 2850e3, 4300e3} {
		ladderReq.Ladder = append(ladderReq.Ladder, Rung{ID: fmt.Sprint(i), BandwidthBPS: bps})
	}
	per := max(1, b.N/sessions)
	lat := make([][]time.Duration, sessions)
	var wg sync.WaitGroup
	var failed sync.Once
	b.ResetTimer()
	start := time.Now()
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			resp, err := post("/v1/sessions", ladderReq)
			if err != nil || resp.StatusCode != 201 {
				failed.Do(func() { b.Errorf("create: %v %v", err, resp) })
				return
			}
			var cr struct {
				SessionID string `json:"session_id"`
			}
			json.NewDecoder(resp.Body).Decode(&cr)
			resp.Body.Close()
			last := "0"
			for seq := 0; seq < per; seq++ {
				req := DecisionRequest{Seq: seq % (1 << 20), BufferS: 10, Last: &Transfer{RepresentationID: last,
					Bytes: 500000 + int64(seq%7)*100000, TRequestMS: 0, TResponseMS: 40, TFinishMS: 800 + float64(seq%5)*300}}
				t0 := time.Now()
				resp, err := post("/v1/sessions/"+cr.SessionID+"/decisions", req)
				if err != nil || resp.StatusCode != 200 {
					failed.Do(func() { b.Errorf("decision: %v %v", err, resp) })
					return
				}
				var d Decision
				json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				lat[s] = append(lat[s], time.Since(t0))
				last = d.RepresentationID
			}
		}(s)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(all[len(all)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100])/1e6, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
