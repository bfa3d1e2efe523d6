// Package daemon serves strata's ABR policies over HTTP/JSON so that other players (dash.js)
// can ask for decisions: the API of ../shared/docs/PLAYER-UX.md under /v1, errors as RFC 9457
// problem+json, plus Pensieve's legacy POST. It keeps one policy instance per session.
// It does not log: an optional hook sees every decision.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-player/strata/abr"
)

// Config bounds the daemon. Zero values take the documented defaults.
type Config struct {
	MaxSessions int           // It defaults to 1000.
	IdleTimeout time.Duration // sessions unused this long are dropped; it defaults to 10 minutes.
	MaxBody     int64         // request body limit; it defaults to 64 KiB.
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// OnDecision, if set, is called for every decision (for logs and tests).
	OnDecision func(session string, seq int, d Decision)
	// AllowOrigins are the web origins (scheme://host:port) whose pages may use the API;
	// "*" allows any. Empty: pages served from loopback (localhost, 127.0.0.0/8, [::1]) only.
	// Requests from any other origin are refused, so a web page cannot drive the daemon.
	AllowOrigins []string
}

// Rung is one Representation of the ladder a session decides on.
type Rung struct {
	ID           string `json:"id"`
	BandwidthBPS int64  `json:"bandwidth_bps"`
	Layers       int    `json:"layers,omitempty"`
}

// CreateRequest opens a session.
type CreateRequest struct {
	Policy           string  `json:"policy"`
	SegmentDurationS float64 `json:"segment_duration_s"`
	Segments         int     `json:"segments,omitempty"` // 0: unknown (a long stream)
	Ladder           []Rung  `json:"ladder"`
}

// Transfer is the last finished download (DASH Annex D fields, milliseconds).
type Transfer struct {
	RepresentationID string  `json:"representation_id"`
	Bytes            int64   `json:"bytes"`
	TRequestMS       float64 `json:"trequest_ms"`
	TResponseMS      float64 `json:"tresponse_ms"`
	TFinishMS        float64 `json:"tfinish_ms"`
}

// DecisionRequest asks for segment Seq's Representation (Seq = segments fetched so far).
// Asking for the same Seq again replays the answer. StallMS is the playback stall since the
// previous request.
type DecisionRequest struct {
	Seq            int       `json:"seq"`
	Last           *Transfer `json:"last"`
	BufferS        float64   `json:"buffer_s"`
	StallMS        float64   `json:"stall_ms"`
	NextSizesBytes []int64   `json:"next_sizes_bytes"`
}

// Decision is the daemon's answer.
type Decision struct {
	RepresentationID string  `json:"representation_id"`
	Reason           string  `json:"reason"`
	EstimateBPS      float64 `json:"estimate_bps"`
}

// Summary is what DELETE returns: the session's QoE (lin on the ladder's bitrates).
type Summary struct {
	SessionID     string  `json:"session_id"`
	Policy        string  `json:"policy"`
	Decisions     int     `json:"decisions"`
	AvgBitrateBPS float64 `json:"avg_bitrate_bps"`
	StallS        float64 `json:"stall_s"`
	Switches      int     `json:"switches"`
	QoE           float64 `json:"qoe"`
}

type session struct {
	// mu serialises requests of one session: its policy is stateful and dash.js may send
	// a decision request before the previous answer arrived.
	mu     sync.Mutex
	id     string
	policy abr.Policy
	video  *abr.Video
	sizes  *sizeBook
	ladder []Rung
	state  abr.State
	// lastUsed (Unix ns) is read by the reaper without mu, so a busy session never blocks
	// the server's lock.
	lastUsed atomic.Int64
	sum      Summary
	lastQ    int
	// The last answer, replayed when the same seq is asked again (a client retrying, or a
	// synchronous catch-up while its asynchronous request is in flight): decisions are
	// idempotent per seq and the policy's state moves once.
	answered bool
	lastSeq  int
	lastDec  Decision
}

// Server is the daemon's http.Handler.
type Server struct {
	cfg Config
	mux *http.ServeMux
	// mu guards sessions: handlers run on many goroutines.
	mu       sync.Mutex
	sessions map[string]*session
	legacy   *session
}

// New returns a daemon.
func New(cfg Config) *Server {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), sessions: map[string]*session{}}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /v1/policies", s.policies)
	s.mux.HandleFunc("POST /v1/sessions", s.create)
	s.mux.HandleFunc("POST /v1/sessions/{id}/decisions", s.decide)
	s.mux.HandleFunc("PUT /v1/sessions/{id}/policy", s.switchPolicy)
	s.mux.HandleFunc("DELETE /v1/sessions/{id}", s.remove)
	s.mux.HandleFunc("POST /pensieve", s.pensieve)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "not-found", "No such endpoint", r.Method+" "+r.URL.Path+" is not part of the API")
	})
	return s
}

// ServeHTTP implements http.Handler, with CORS for the browser players of allowed origins.
// Requests that carry state (POST, PUT) must be application/json, which a foreign page
// cannot send without a preflight that this server refuses.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		if !s.originAllowed(o) {
			problem(w, http.StatusForbidden, "origin-refused", "Origin not allowed", "pages from "+o+" may not use this daemon (see --allow-origin)")
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && r.URL.Path != "/pensieve" {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			problem(w, http.StatusUnsupportedMediaType, "media-type", "JSON required", "send Content-Type: application/json")
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	s.mux.ServeHTTP(w, r)
}

// originAllowed reports whether a page from origin o may call the API.
func (s *Server) originAllowed(o string) bool {
	if len(s.cfg.AllowOrigins) == 0 {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return false
		}
		h := u.Hostname()
		ip := net.ParseIP(h)
		return h == "localhost" || (ip != nil && ip.IsLoopback())
	}
	for _, a := range s.cfg.AllowOrigins {
		if a == "*" || strings.EqualFold(a, o) {
			return true
		}
	}
	return false
}

// problem writes an RFC 9457 problem detail.
func problem(w http.ResponseWriter, status int, typ, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type": "urn:strata:abrd:" + typ, "title": title, "status": status, "detail": detail,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decodeBody parses a JSON body strictly, answering the problem itself on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem(w, http.StatusRequestEntityTooLarge, "too-large", "Request body too large", fmt.Sprintf("the limit is %d bytes", mbe.Limit))
			return false
		}
		problem(w, http.StatusBadRequest, "malformed", "Malformed JSON", err.Error())
		return false
	}
	if _, err := d.Token(); err != io.EOF {
		problem(w, http.StatusBadRequest, "malformed", "Malformed JSON", "trailing data after the object")
		return false
	}
	return true
}

func (s *Server) policies(w http.ResponseWriter, r *http.Request) {
	type p struct {
		Name string `json:"name"`
		Help string `json:"help"`
	}
	var out []p
	for _, spec := range abr.Policies() {
		if !spec.SimOnly {
			out = append(out, p{spec.Name, spec.Help})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// sizeBook is a session's segment sizes: bitrate × duration per rung, unless a request
// announced a segment's sizes (the last few are kept). Its memory does not depend on the
// stream's length.
type sizeBook struct {
	nominal []int64
	told    [8]struct {
		seq   int
		sizes []int64
	}
}

func (b *sizeBook) size(q, i int) int64 {
	if t := &b.told[i&7]; t.sizes != nil && t.seq == i {
		return t.sizes[q]
	}
	return b.nominal[q]
}

func (b *sizeBook) tell(seq int, sizes []int64) {
	t := &b.told[seq&7]
	t.seq = seq
	t.sizes = append(t.sizes[:0], sizes...)
}

// ladderVideo is the abr.Video of a ladder: sizes are bitrate × duration unless a request
// tells the next segment's sizes.
func ladderVideo(req *CreateRequest) (*abr.Video, *sizeBook, error) {
	if len(req.Ladder) == 0 || len(req.Ladder) > 64 {
		return nil, nil, errors.New("ladder needs 1..64 representations")
	}
	if !(req.SegmentDurationS > 0 && req.SegmentDurationS <= 600) {
		return nil, nil, errors.New("segment_duration_s must be in (0, 600]")
	}
	if req.Segments < 0 || req.Segments > 1<<20 {
		return nil, nil, errors.New("segments must be in 0..1048576")
	}
	rungs := append([]Rung(nil), req.Ladder...)
	sort.SliceStable(rungs, func(i, j int) bool { return rungs[i].BandwidthBPS < rungs[j].BandwidthBPS })
	n := req.Segments
	if n == 0 {
		n = 1 << 20
	}
	book := &sizeBook{}
	v := &abr.Video{Name: "ladder", ChunkS: req.SegmentDurationS, Chunks: n, SizeFunc: book.size}
	seen := map[string]bool{}
	for i, r := range rungs {
		if r.ID == "" || len(r.ID) > 256 || seen[r.ID] || r.BandwidthBPS <= 0 || r.BandwidthBPS > 1e12 {
			return nil, nil, fmt.Errorf("ladder entry %d: need a unique id (≤ 256 bytes) and a positive bandwidth_bps", i)
		}
		if i > 0 && r.BandwidthBPS == rungs[i-1].BandwidthBPS {
			return nil, nil, fmt.Errorf("ladder entries %s and %s have the same bandwidth", rungs[i-1].ID, r.ID)
		}
		seen[r.ID] = true
		v.BitratesKbps = append(v.BitratesKbps, float64(r.BandwidthBPS)/1000)
		book.nominal = append(book.nominal, int64(math.Ceil(float64(r.BandwidthBPS)*req.SegmentDurationS/8)))
	}
	req.Ladder = rungs
	return v, book, v.Validate()
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if !decodeBody(w, r, &req) {
		return
	}
	spec, err := abr.LookupLive(req.Policy)
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "unknown-policy", "Unknown policy", err.Error())
		return
	}
	v, book, err := ladderVideo(&req)
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "bad-ladder", "Invalid ladder", err.Error())
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	s.reapLocked(now)
	if len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		problem(w, http.StatusServiceUnavailable, "too-many-sessions", "Too many sessions", fmt.Sprintf("the limit is %d", s.cfg.MaxSessions))
		return
	}
	ss := newSession(newID(), spec.New(), v, book, req.Ladder, now)
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"session_id": ss.id, "policy": spec.Name})
}

func newSession(id string, p abr.Policy, v *abr.Video, book *sizeBook, ladder []Rung, now time.Time) *session {
	p.Reset()
	ss := &session{id: id, policy: p, video: v, sizes: book, ladder: ladder, lastQ: min(abr.DefaultQuality, len(ladder)-1)}
	ss.lastUsed.Store(now.UnixNano())
	ss.state.Video = v
	ss.sum.SessionID, ss.sum.Policy = id, p.Name()
	return ss
}

// reapLocked drops idle sessions; s.mu is held (never a session's lock: a session busy
// deciding must not stall every other request).
func (s *Server) reapLocked(now time.Time) {
	cut := now.Add(-s.cfg.IdleTimeout).UnixNano()
	for id, ss := range s.sessions {
		if ss.lastUsed.Load() < cut {
			delete(s.sessions, id)
		}
	}
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *session {
	s.mu.Lock()
	s.reapLocked(s.cfg.Now())
	ss := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	if ss == nil {
		problem(w, http.StatusNotFound, "unknown-session", "Unknown session", "no session "+r.PathValue("id")+" (it may have expired)")
	}
	return ss
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	ss := s.lookup(w, r)
	if ss == nil {
		return
	}
	var req DecisionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	d, err := ss.decide(r.Context(), &req, s.cfg.Now())
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "bad-decision-request", "Invalid decision request", err.Error())
		return
	}
	if s.cfg.OnDecision != nil {
		s.cfg.OnDecision(ss.id, req.Seq, d)
	}
	writeJSON(w, http.StatusOK, d)
}

// decide updates the session's state with the request and asks its policy.
func (ss *session) decide(ctx context.Context, req *DecisionRequest, now time.Time) (Decision, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.lastUsed.Store(now.UnixNano())
	v := ss.video
	if req.Seq < 0 || req.Seq >= v.Chunks {
		return Decision{}, fmt.Errorf("seq %d outside 0..%d", req.Seq, v.Chunks-1)
	}
	if ss.answered && req.Seq == ss.lastSeq {
		return ss.lastDec, nil
	}
	if !(req.BufferS >= 0 && req.BufferS < 1e6) || !(req.StallMS >= 0 && req.StallMS < 1e9) {
		return Decision{}, errors.New("buffer_s and stall_ms must be non-negative and finite")
	}
	if len(req.NextSizesBytes) > 0 {
		if len(req.NextSizesBytes) != len(ss.ladder) {
			return Decision{}, fmt.Errorf("next_sizes_bytes has %d entries, the ladder %d", len(req.NextSizesBytes), len(ss.ladder))
		}
		for _, b := range req.NextSizesBytes {
			if b <= 0 || b > 1<<40 {
				return Decision{}, errors.New("next_sizes_bytes must be positive")
			}
		}
		ss.sizes.tell(req.Seq, req.NextSizesBytes)
	}
	st := &ss.state
	st.Next, st.BufferS, st.RebufferS = req.Seq, req.BufferS, req.StallMS/1000
	if req.Last != nil {
		t := req.Last
		q := -1
		for i, r := range ss.ladder {
			if r.ID == t.RepresentationID {
				q = i
			}
		}
		if q < 0 {
			return Decision{}, fmt.Errorf("last.representation_id %q is not in the ladder", t.RepresentationID)
		}
		delay, dl := t.TFinishMS-t.TRequestMS, t.TFinishMS-t.TResponseMS
		if t.Bytes <= 0 || !(delay > 0) || dl < 0 || dl > delay {
			return Decision{}, errors.New("last needs bytes > 0 and trequest_ms <= tresponse_ms <= tfinish_ms with tfinish_ms > trequest_ms")
		}
		st.LastQuality = q
		st.Samples = append(st.Samples, abr.Sample{Bytes: t.Bytes, DelayMs: delay, DownloadMs: dl})
		st.Transfers++
		if len(st.Samples) > 64 {
			st.Samples = append(st.Samples[:0], st.Samples[len(st.Samples)-64:]...)
		}
	}
	q := min(abr.DefaultQuality, len(ss.ladder)-1)
	reason := "first segment: default quality"
	est := 0.0
	if len(st.Samples) > 0 {
		a := ss.policy.Decide(ctx, st)
		if a.Kind == abr.Fetch && a.Quality >= 0 && a.Quality < len(ss.ladder) {
			q = a.Quality
			reason = ss.policy.Name() + " decision"
		} else {
			q = st.LastQuality
			reason = ss.policy.Name() + " asked for a non-fetch action; keeping the last representation"
		}
		est = (&abr.Rate{Window: 5}).EstimateMbps(st.Samples) * 1e6
	}
	// Account QoE (lin) as the decisions go: the chosen rate, stalls and switches.
	r := ss.video.BitratesKbps[q]
	prev := ss.video.BitratesKbps[ss.lastQ]
	ss.sum.Decisions++
	ss.sum.AvgBitrateBPS += r * 1000
	ss.sum.StallS += st.RebufferS
	if q != ss.lastQ {
		ss.sum.Switches++
	}
	ss.sum.QoE += r/1000 - 4.3*st.RebufferS - math.Abs(r-prev)/1000
	ss.lastQ = q
	ss.answered, ss.lastSeq = true, req.Seq
	ss.lastDec = Decision{RepresentationID: ss.ladder[q].ID, Reason: reason, EstimateBPS: est}
	return ss.lastDec, nil
}

func (s *Server) switchPolicy(w http.ResponseWriter, r *http.Request) {
	ss := s.lookup(w, r)
	if ss == nil {
		return
	}
	var req struct {
		Policy string `json:"policy"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	spec, err := abr.LookupLive(req.Policy)
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "unknown-policy", "Unknown policy", err.Error())
		return
	}
	ss.mu.Lock()
	ss.policy = spec.New()
	ss.policy.Reset()
	ss.sum.Policy = spec.Name
	ss.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"session_id": ss.id, "policy": spec.Name})
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	ss := s.lookup(w, r)
	if ss == nil {
		return
	}
	s.mu.Lock()
	delete(s.sessions, ss.id)
	s.mu.Unlock()
	ss.mu.Lock()
	sum := ss.sum
	ss.mu.Unlock()
	if sum.Decisions > 0 {
		sum.AvgBitrateBPS /= float64(sum.Decisions)
	}
	writeJSON(w, http.StatusOK, sum)
}

// pensieve is the legacy endpoint of Pensieve's dash.js fork: a JSON POST per chunk with
// lastquality, buffer (s), RebufferTime (ms), lastChunkStartTime / lastChunkFinishTime (ms)
// and lastChunkSize (bytes); the answer is the next quality index as plain text. One
// implicit session on the envivio ladder, robustMPC; a request with lastRequest = 0 (or no
// lastChunkSize) restarts it.
func (s *Server) pensieve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LastQuality         *int     `json:"lastquality"`
		Buffer              *float64 `json:"buffer"`
		RebufferTime        float64  `json:"RebufferTime"`
		LastChunkStartTime  float64  `json:"lastChunkStartTime"`
		LastChunkFinishTime float64  `json:"lastChunkFinishTime"`
		LastChunkSize       int64    `json:"lastChunkSize"`
		LastRequest         int      `json:"lastRequest"`
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "too-large", "Request body too large", err.Error())
		return
	}
	if err := json.Unmarshal(body, &req); err != nil || req.LastQuality == nil || req.Buffer == nil {
		problem(w, http.StatusBadRequest, "malformed", "Malformed Pensieve request", "need at least lastquality and buffer")
		return
	}
	s.mu.Lock()
	if s.legacy == nil || req.LastChunkSize == 0 || req.LastRequest == 0 {
		ladder := make([]Rung, len(abr.EnvivioBitratesKbps))
		for i, k := range abr.EnvivioBitratesKbps {
			ladder[i] = Rung{ID: fmt.Sprint(i), BandwidthBPS: int64(k * 1000)}
		}
		cr := &CreateRequest{Policy: "mpc", SegmentDurationS: 4, Segments: abr.EnvivioChunks, Ladder: ladder}
		v, book, _ := ladderVideo(cr)
		spec, _ := abr.Lookup("mpc")
		s.legacy = newSession("pensieve", spec.New(), v, book, cr.Ladder, s.cfg.Now())
	}
	ss := s.legacy
	s.mu.Unlock()
	q := *req.LastQuality
	if q < 0 || q >= len(ss.ladder) {
		problem(w, http.StatusUnprocessableEntity, "bad-decision-request", "Invalid Pensieve request", "lastquality out of range")
		return
	}
	dr := &DecisionRequest{Seq: min(max(req.LastRequest, 0), ss.video.Chunks-1), BufferS: *req.Buffer, StallMS: req.RebufferTime}
	if req.LastChunkSize > 0 {
		dr.Last = &Transfer{RepresentationID: ss.ladder[q].ID, Bytes: req.LastChunkSize,
			TRequestMS: req.LastChunkStartTime, TResponseMS: req.LastChunkStartTime, TFinishMS: req.LastChunkFinishTime}
	}
	d, err := ss.decide(r.Context(), dr, s.cfg.Now())
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "bad-decision-request", "Invalid Pensieve request", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(strings.TrimSpace(d.RepresentationID)))
}
