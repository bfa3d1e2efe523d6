package encoder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/strata-player/strata/decoder"
	"github.com/strata-player/strata/internal/y4m"
)

// Anchor is a conventional codec run through ffmpeg for comparison, at a GOP length
// matched to our segments (../shared/docs/CODEC.md gives the settings).
type Anchor struct {
	Name string
	CRFs []int
	args func(crf, gop int) []string
	ext  string
}

// Anchors are x264 medium, x264 veryfast, x265 medium and x264 intra-only.
var Anchors = []Anchor{
	{Name: "x264-medium", CRFs: []int{22, 27, 32, 37, 42, 47, 51}, ext: "264", args: func(crf, gop int) []string {
		return x264("medium", crf, gop)
	}},
	{Name: "x264-veryfast", CRFs: []int{22, 27, 32, 37, 42, 47, 51}, ext: "264", args: func(crf, gop int) []string {
		return x264("veryfast", crf, gop)
	}},
	{Name: "x265-medium", CRFs: []int{22, 27, 32, 37, 42, 47, 51}, ext: "265", args: func(crf, gop int) []string {
		return []string{"-c:v", "libx265", "-preset", "medium", "-tune", "psnr", "-crf", strconv.Itoa(crf),
			"-x265-params", fmt.Sprintf("keyint=%d:min-keyint=%d:scenecut=0:log-level=error", gop, gop), "-f", "hevc"}
	}},
	{Name: "x264-intra", CRFs: []int{22, 27, 32, 37, 42, 47, 51}, ext: "264", args: func(crf, gop int) []string {
		return x264("medium", crf, 1)
	}},
}

func x264(preset string, crf, gop int) []string {
	return []string{"-c:v", "libx264", "-preset", preset, "-tune", "psnr", "-crf", strconv.Itoa(crf),
		"-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0", "-f", "h264"}
}

// RunAnchor encodes the first len(orig) frames of the Y4M file in with anchor a at crf and
// GOP length gop, decodes the result with ffmpeg and measures it against orig. It returns
// the bitstream's size in bytes and the mean per-frame PSNR-Y.
func RunAnchor(ctx context.Context, a Anchor, in string, orig []*decoder.Frame, crf, gop int, tmp string) (int, float64, error) {
	out := filepath.Join(tmp, fmt.Sprintf("%s-%d.%s", a.Name, crf, a.ext))
	args := append([]string{"-v", "error", "-y", "-i", in, "-frames:v", strconv.Itoa(len(orig)), "-an"}, a.args(crf, gop)...)
	args = append(args, out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("ffmpeg %s crf %d: %v: %s", a.Name, crf, err, bytes.TrimSpace(b))
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", out, "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	r, err := y4m.NewReader(pipe)
	if err != nil {
		cmd.Wait()
		return 0, 0, fmt.Errorf("%s crf %d: decoding: %w", a.Name, crf, err)
	}
	var sum float64
	n := 0
	var f *decoder.Frame
	for n < len(orig) {
		f, err = r.Next(f)
		if err != nil {
			break
		}
		sum += PSNR(planeMSE(orig[n].Y, orig[n].W, f.Y, f.W, orig[n].W, orig[n].H))
		n++
	}
	io.Copy(io.Discard, pipe)
	if werr := cmd.Wait(); werr != nil {
		return 0, 0, fmt.Errorf("%s crf %d: ffmpeg decode: %v", a.Name, crf, werr)
	}
	if n != len(orig) {
		return 0, 0, fmt.Errorf("%s crf %d: decoded %d of %d frames", a.Name, crf, n, len(orig))
	}
	return int(st.Size()), sum / float64(n), nil
}
