package live

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The streamer's requests, relative to where IngestHandler is mounted (PUT; Authorization:
// Bearer TOKEN):
//
//	s<S>-l<L>/init.mp4           a layer's CMAF init segment
//	s<S>-l<L>/seg-<N>.m4s         layer L of segment N (1-based, as in the MPD)
//	quality-s<S>/seg-<N>.json     segment N's quality row: publishes it with the layers listed
//	patches-s<S>/seg-<N>.bin      high-quality patches of published segment N (MarshalPatches)
//	end                           the stream is over
var (
	ingestLayer   = regexp.MustCompile(`^s([0-9]{1,2})-l([0-9]{1,2})/(init\.mp4|seg-([0-9]{1,8})\.m4s)$`)
	ingestQuality = regexp.MustCompile(`^quality-s([0-9]{1,2})/seg-([0-9]{1,8})\.json$`)
	ingestPatches = regexp.MustCompile(`^patches-s([0-9]{1,2})/seg-([0-9]{1,8})\.bin$`)
)

// maxRowBytes bounds a quality row.
const maxRowBytes = 16 << 10

// IngestHandler serves the streamer's uploads; mount it with the prefix stripped
// (http.StripPrefix). Every request must carry the channel's token; bodies are bounded.
func (c *Channel) IngestHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			w.Header().Set("Allow", "PUT, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(c.cfg.Token)) != 1 {
			http.Error(w, "ingest needs the channel's token", http.StatusUnauthorized)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/")
		limit := int64(maxRowBytes)
		switch {
		case ingestLayer.MatchString(p):
			limit = int64(c.cfg.MaxUnitBytes)
		case ingestPatches.MatchString(p):
			limit = maxBundleBytes
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "body exceeds the ingest limit", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		err = c.route(p, body)
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, errNotFound):
			http.Error(w, "no such ingest path", http.StatusNotFound)
		case errors.Is(err, ErrConflict):
			http.Error(w, err.Error(), http.StatusConflict)
		default:
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
}

var errNotFound = errors.New("live: no such ingest path")

func (c *Channel) route(p string, body []byte) error {
	if p == "end" {
		return c.End()
	}
	if m := ingestLayer.FindStringSubmatch(p); m != nil {
		s, _ := strconv.Atoi(m[1])
		l, _ := strconv.Atoi(m[2])
		if m[4] == "" {
			return c.PutInit(s, l, body)
		}
		n, _ := strconv.Atoi(m[4])
		if n < 1 {
			return errNotFound
		}
		return c.PutUnit(s, l, n-1, body)
	}
	if m := ingestPatches.FindStringSubmatch(p); m != nil {
		s, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if n < 1 {
			return errNotFound
		}
		return c.PutPatches(s, n-1, body)
	}
	if m := ingestQuality.FindStringSubmatch(p); m != nil {
		s, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if n < 1 {
			return errNotFound
		}
		return c.Complete(s, n-1, body)
	}
	return errNotFound
}
