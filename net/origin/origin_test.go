package origin

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "rep"), 0o755)
	os.WriteFile(filepath.Join(dir, "manifest.mpd"), []byte("<MPD/>"), 0o644)
	os.WriteFile(filepath.Join(dir, "rep", "seg-1.m4s"), []byte(strings.Repeat("x", 1000)), 0o644)
	os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 5000), 0o644)
	os.WriteFile(filepath.Join(dir, ".secret"), []byte("no"), 0o644)
	outside := filepath.Join(t.TempDir(), "outside.txt")
	os.WriteFile(outside, []byte("outside"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "escape.txt"))
	return dir
}

func TestRequests(t *testing.T) {
	h, err := New(Config{Dir: testDir(t), MaxFileBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, c := range []struct {
		name, method, target, rangeHdr, body string
		status                               int
		ctype                                string
	}{
		{"mpd", "GET", "/manifest.mpd", "", "", 200, "application/dash+xml"},
		{"segment", "GET", "/rep/seg-1.m4s", "", "", 200, "video/iso.segment"},
		{"head", "HEAD", "/rep/seg-1.m4s", "", "", 200, ""},
		{"range", "GET", "/rep/seg-1.m4s", "bytes=10-19", "", 206, ""},
		{"absurd range", "GET", "/rep/seg-1.m4s", "bytes=99999999-", "", 416, ""},
		{"inverted range", "GET", "/rep/seg-1.m4s", "bytes=50-10", "", 416, ""},
		{"too many ranges", "GET", "/rep/seg-1.m4s", "bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17", "", 416, ""},
		{"traversal", "GET", "/../etc/passwd", "", "", 403, ""},
		{"encoded traversal", "GET", "/rep/%2e%2e/%2e%2e/etc/passwd", "", "", 403, ""},
		{"backslash", "GET", "/rep\\..\\manifest.mpd", "", "", 403, ""},
		{"hidden file", "GET", "/.secret", "", "", 403, ""},
		{"symlink out of the root", "GET", "/escape.txt", "", "", 403, ""},
		{"directory", "GET", "/rep", "", "", 404, ""},
		{"root", "GET", "/", "", "", 403, ""},
		{"missing", "GET", "/nope.m4s", "", "", 404, ""},
		{"oversized file", "GET", "/big.bin", "", "", 403, ""},
		{"post", "POST", "/manifest.mpd", "", "", 405, ""},
		{"body", "GET", "/manifest.mpd", "", "payload", 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			var r *http.Request
			if body != nil {
				r = httptest.NewRequest(c.method, "http://x"+c.target, body)
			} else {
				r = httptest.NewRequest(c.method, "http://x"+c.target, nil)
			}
			if c.rangeHdr != "" {
				r.Header.Set("Range", c.rangeHdr)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("%s %s: status %d, want %d (%s)", c.method, c.target, w.Code, c.status, w.Body.String())
			}
			if c.ctype != "" && w.Header().Get("Content-Type") != c.ctype {
				t.Errorf("content type %q, want %q", w.Header().Get("Content-Type"), c.ctype)
			}
			if c.status == 206 && w.Body.Len() != 10 {
				t.Errorf("range returned %d bytes", w.Body.Len())
			}
		})
	}
}
