// Package origin is strata's HTTP origin: it serves a packaged presentation directory
// (MPD, CMAF segments, quality sidecars) read-only, with range requests, strict path
// handling, size limits and, optionally, a trace-shaped shared bottleneck. It works the same
// behind HTTP/3, HTTP/2 and HTTP/1.1. It does not log: each finished request is reported to
// an optional hook.
package origin

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/strata-player/strata/net/shape"
)

// Access is one finished request, for the access log.
type Access struct {
	Method, Path, Proto, Remote string
	Status                      int
	Bytes                       int64
	Duration                    time.Duration
}

// Config configures the origin.
type Config struct {
	Dir string
	// Link shapes every response body through one shared bottleneck (nil: unshaped).
	Link *shape.Link
	// Sleep waits until t; it defaults to a timer on the wall clock (tests inject one).
	Sleep func(t time.Time)
	// MaxFileBytes refuses larger files with 403. It defaults to 1 GiB.
	MaxFileBytes int64
	// OnAccess, if set, is called after every request.
	OnAccess func(Access)
	// Virtual, if set, is asked for names that are not files (e.g. joined segments built
	// from layer files); fs.ErrNotExist means not found.
	Virtual func(name string) ([]byte, error)
}

// ChunkBytes is the size of the shaped writes.
const ChunkBytes = 16 << 10

// maxRangeHeader bounds the Range header; longer ones are refused with 416.
const maxRangeHeader = 256

// Handler serves cfg.Dir.
type Handler struct {
	cfg  Config
	root *os.Root
}

// New opens the directory (confined with os.Root, so no path or symbolic link escapes it).
// Without a directory every name goes to cfg.Virtual (a live channel, say).
func New(cfg Config) (*Handler, error) {
	var root *os.Root
	if cfg.Dir != "" {
		var err error
		if root, err = os.OpenRoot(cfg.Dir); err != nil {
			return nil, err
		}
	} else if cfg.Virtual == nil {
		return nil, errors.New("origin: a directory or a virtual source is required")
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 1 << 30
	}
	if cfg.Sleep == nil {
		cfg.Sleep = func(t time.Time) { time.Sleep(time.Until(t)) }
	}
	return &Handler{cfg: cfg, root: root}, nil
}

// Close releases the directory.
func (h *Handler) Close() error {
	if h.root == nil {
		return nil
	}
	return h.root.Close()
}

func init() {
	for ext, typ := range map[string]string{".mpd": "application/dash+xml", ".m4s": "video/iso.segment", ".mp4": "video/mp4", ".json": "application/json"} {
		mime.AddExtensionType(ext, typ)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	var out http.ResponseWriter = cw
	if h.cfg.Link != nil {
		out = &shapedWriter{countingWriter: cw, link: h.cfg.Link, sleep: h.cfg.Sleep}
	}
	h.serve(out, r)
	if h.cfg.OnAccess != nil {
		h.cfg.OnAccess(Access{Method: r.Method, Path: r.URL.Path, Proto: r.Proto, Remote: r.RemoteAddr,
			Status: cw.status, Bytes: cw.n, Duration: time.Since(start)})
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Headers", "Range")
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		http.Error(w, "request bodies are not accepted", http.StatusRequestEntityTooLarge)
		return
	}
	name, ok := cleanPath(r.URL.Path)
	if !ok {
		http.Error(w, "forbidden path", http.StatusForbidden)
		return
	}
	if rg := r.Header.Get("Range"); len(rg) > maxRangeHeader || strings.Count(rg, ",") > 7 {
		http.Error(w, "range header too long", http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if h.root == nil {
		h.serveVirtual(w, r, name)
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist) && h.cfg.Virtual != nil:
			h.serveVirtual(w, r, name)
		case errors.Is(err, fs.ErrNotExist):
			http.Error(w, "not found", http.StatusNotFound)
		case errors.Is(err, fs.ErrPermission):
			http.Error(w, "forbidden", http.StatusForbidden)
		default: // e.g. a symbolic link that leaves the root
			http.Error(w, "forbidden", http.StatusForbidden)
		}
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() || !st.Mode().IsRegular() {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if st.Size() > h.cfg.MaxFileBytes {
		http.Error(w, "file exceeds the server's size limit", http.StatusForbidden)
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}

func (h *Handler) serveVirtual(w http.ResponseWriter, r *http.Request, name string) {
	b, err := h.cfg.Virtual(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.Error(w, "not found", http.StatusNotFound)
	case err != nil:
		http.Error(w, "cannot build "+name, http.StatusInternalServerError)
	default:
		if h.root == nil {
			// Virtual-only content changes (a live presentation): no caching.
			w.Header().Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}
}

// Root is the confined directory the handler serves.
func (h *Handler) Root() *os.Root { return h.root }

// cleanPath maps a URL path to a name inside the root, refusing anything that could
// address outside it or that is not plainly a relative file path.
func cleanPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." || strings.HasPrefix(seg, ".") && seg != "" {
			return "", false // parent references and hidden files
		}
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		return "", false
	}
	return name, true
}

// countingWriter records the status and the body bytes written.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// shapedWriter sends the body in ChunkBytes pieces, each when the shared link has
// delivered it.
type shapedWriter struct {
	*countingWriter
	link  *shape.Link
	sleep func(time.Time)
}

func (s *shapedWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), ChunkBytes)
		s.sleep(s.link.Reserve(n))
		m, err := s.countingWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		s.countingWriter.Flush()
		p = p[n:]
	}
	return written, nil
}

// ReadFrom keeps io.Copy from bypassing the shaping.
func (s *shapedWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, ChunkBytes)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := s.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
