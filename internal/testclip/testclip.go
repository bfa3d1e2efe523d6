// Package testclip decodes clips of the shared media folder for tests, with the exact
// ffmpeg command recorded in each clip's SOURCE.txt (needs ffmpeg: `make setup`).
package testclip

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/shared"
	"github.com/strata-player/strata/internal/y4m"
)

// Names lists the clips of media/<split> (skipping or failing as shared.Require does).
func Names(t testing.TB, split string) []string {
	t.Helper()
	dir := shared.Require(t, filepath.Join("media", split))
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// Frames decodes the first n frames of media/<split>/<name> (n ≤ 0: all).
func Frames(t testing.TB, split, name string, n int) (y4m.Header, []*decoder.Frame) {
	t.Helper()
	dir := shared.Require(t, filepath.Join("media", split, name))
	src, err := os.ReadFile(filepath.Join(dir, "SOURCE.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var cmd string
	for _, l := range strings.Split(string(src), "\n") {
		if c, ok := strings.CutPrefix(l, "ffmpeg: "); ok {
			cmd = c
		}
	}
	args := strings.Fields(cmd)
	if len(args) < 3 || args[0] != "ffmpeg" {
		t.Fatalf("%s/SOURCE.txt: no ffmpeg command", dir)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg is not installed (make setup installs it)")
		}
		t.Skip("ffmpeg is not installed (make setup installs it)")
	}
	args = args[1 : len(args)-1] // drop "ffmpeg" and the output name
	if n > 0 {
		args = append(args, "-frames:v", strconv.Itoa(n))
	}
	args = append(args, "-v", "error", "-")
	c := exec.Command("ffmpeg", args...)
	c.Dir = filepath.Dir(dir)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v", args, err)
	}
	r, err := y4m.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var frames []*decoder.Frame
	for {
		f, err := r.Next(nil)
		if err != nil {
			break
		}
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		t.Fatalf("%s: no frames decoded", name)
	}
	return r.Header, frames
}
