package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strata-player/strata/abr"
)

// Remote is an abr.Policy whose decisions come from an ABR daemon (`strata abrd`) at URL:
// the player's --abr remote:<url>. It opens a session with the stream's ladder on the
// first decision, then posts every finished download; a daemon that cannot be reached or
// answers with an error keeps the last level (Errors counts those decisions). Reset and
// Close delete the daemon session; Bind ties its requests to the playback's context.
type Remote struct {
	URL    string // e.g. http://127.0.0.1:8333
	Policy string // the daemon's policy (mpc when empty)
	Client *http.Client

	ctx     context.Context
	session string
	video   *abr.Video
	last    int
	Errors  int
}

// ParseRemote recognises "remote:<url>[#policy]".
func ParseRemote(name string) (*Remote, bool, error) {
	rest, ok := strings.CutPrefix(name, "remote:")
	if !ok {
		return nil, false, nil
	}
	url, policy, _ := strings.Cut(rest, "#")
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, true, fmt.Errorf("ABR policy %q: want remote:http://host:port[#policy]", name)
	}
	return &Remote{URL: strings.TrimRight(url, "/"), Policy: policy, Client: &http.Client{Timeout: 2 * time.Second}}, true, nil
}

// Name implements abr.Policy.
func (r *Remote) Name() string { return "remote:" + r.URL }

// Reset implements abr.Policy: the daemon session ends; the next decision opens a new one.
func (r *Remote) Reset() { r.Close() }

// Close deletes the daemon session, if one is open (best effort: the daemon's idle reaper
// drops it anyway). It implements io.Closer.
func (r *Remote) Close() error {
	if r.session == "" {
		return nil
	}
	id := r.session
	r.session, r.video = "", nil
	// The playback's context may be over already: the delete gets its own short one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.context()), time.Second)
	defer cancel()
	var sum Summary
	return r.callCtx(ctx, "DELETE", "/v1/sessions/"+id, nil, &sum)
}

func (r *Remote) context() context.Context {
	if r.ctx != nil {
		return r.ctx
	}
	return context.Background()
}

// Decide implements abr.Policy. It only fetches (the daemon's API decides levels).
func (r *Remote) Decide(ctx context.Context, s *abr.State) abr.Action {
	r.ctx = ctx // the requests of this decision end with the caller's (a player's playback)
	fetch := func(q int) abr.Action { return abr.Action{Kind: abr.Fetch, Segment: s.Next, Quality: q} }
	if s.Next >= s.Video.Chunks {
		return abr.Action{Kind: abr.Wait}
	}
	if r.session == "" || r.video != s.Video {
		if err := r.open(s.Video); err != nil {
			r.Errors++
			return fetch(r.last)
		}
	}
	req := DecisionRequest{Seq: s.Next, BufferS: s.BufferS, StallMS: s.RebufferS * 1000}
	if n := len(s.Samples); n > 0 {
		smp := s.Samples[n-1]
		req.Last = &Transfer{RepresentationID: strconv.Itoa(s.LastQuality), Bytes: smp.Bytes,
			TRequestMS: 0, TResponseMS: smp.DelayMs - smp.DownloadMs, TFinishMS: smp.DelayMs}
	}
	for q := range s.Video.BitratesKbps {
		req.NextSizesBytes = append(req.NextSizesBytes, max(s.Video.Size(q, s.Next), 1))
	}
	var d Decision
	if err := r.call("POST", "/v1/sessions/"+r.session+"/decisions", req, &d); err != nil {
		r.Errors++
		return fetch(r.last)
	}
	q, err := strconv.Atoi(d.RepresentationID)
	if err != nil || q < 0 || q >= len(s.Video.BitratesKbps) {
		r.Errors++
		return fetch(r.last)
	}
	r.last = q
	return fetch(q)
}

// open creates a daemon session for v's ladder (Representation ids are level numbers).
func (r *Remote) open(v *abr.Video) error {
	policy := r.Policy
	if policy == "" {
		policy = "mpc"
	}
	req := CreateRequest{Policy: policy, SegmentDurationS: v.ChunkS, Segments: v.Chunks}
	for q, kbps := range v.BitratesKbps {
		req.Ladder = append(req.Ladder, Rung{ID: strconv.Itoa(q), BandwidthBPS: int64(kbps * 1000), Layers: q + 1})
	}
	var res struct {
		SessionID string `json:"session_id"`
	}
	if err := r.call("POST", "/v1/sessions", req, &res); err != nil {
		return err
	}
	r.session, r.video = res.SessionID, v
	return nil
}

func (r *Remote) call(method, path string, body, out any) error {
	return r.callCtx(r.context(), method, path, body, out)
}

func (r *Remote) callCtx(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, method, r.URL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.Client.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("abrd %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}
