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

// ClipQuality is a coded clip's quality: means of per-frame PSNR-Y and PSNR-YUV (6:1:1) and
// the worst frame's PSNR-Y.
type ClipQuality struct {
	PSNRY, PSNRYUV, WorstY float64
}

// Add accumulates one frame (call Mean after the last).
func (q *ClipQuality) Add(f FrameQuality, first bool) {
	if first || f.PSNRY < q.WorstY {
		q.WorstY = f.PSNRY
	}
	q.PSNRY += f.PSNRY
	q.PSNRYUV += f.PSNRYUV()
}

// Mean divides the sums by the frame count n.
func (q *ClipQuality) Mean(n int) {
	q.PSNRY /= float64(n)
	q.PSNRYUV /= float64(n)
}

// MeasurePSNR is Measure without SSIM (PSNR only: cheaper).
func MeasurePSNR(orig, rec *decoder.Frame) FrameQuality {
	w, h := orig.W, orig.H
	return FrameQuality{
		PSNRY: PSNR(planeMSE(orig.Y, w, rec.Y, rec.W, w, h)),
		PSNRU: PSNR(planeMSE(orig.U, w/2, rec.U, rec.W/2, w/2, h/2)),
		PSNRV: PSNR(planeMSE(orig.V, w/2, rec.V, rec.W/2, w/2, h/2)),
	}
}

// RunAnchor encodes the first len(orig) frames of the Y4M file in with anchor a at crf and
// GOP length gop, decodes the result with ffmpeg and measures it against orig. It returns
// the bitstream's size in bytes and its quality.
func RunAnchor(ctx context.Context, a Anchor, in string, orig []*decoder.Frame, crf, gop int, tmp string) (int, ClipQuality, error) {
	var q ClipQuality
	out := filepath.Join(tmp, fmt.Sprintf("%s-%d.%s", a.Name, crf, a.ext))
	args := append([]string{"-v", "error", "-y", "-i", in, "-frames:v", strconv.Itoa(len(orig)), "-an"}, a.args(crf, gop)...)
	args = append(args, out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		return 0, q, fmt.Errorf("ffmpeg %s crf %d: %v: %s", a.Name, crf, err, bytes.TrimSpace(b))
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, q, err
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", out, "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return 0, q, err
	}
	if err := cmd.Start(); err != nil {
		return 0, q, err
	}
	r, err := y4m.NewReader(pipe)
	if err != nil {
		cmd.Wait()
		return 0, q, fmt.Errorf("%s crf %d: decoding: %w", a.Name, crf, err)
	}
	n := 0
	var f *decoder.Frame
	for n < len(orig) {
		f, err = r.Next(f)
		if err != nil {
			break
		}
		q.Add(MeasurePSNR(orig[n], f), n == 0)
		n++
	}
	io.Copy(io.Discard, pipe)
	if werr := cmd.Wait(); werr != nil {
		return 0, q, fmt.Errorf("%s crf %d: ffmpeg decode: %v", a.Name, crf, werr)
	}
	if n != len(orig) {
		return 0, q, fmt.Errorf("%s crf %d: decoded %d of %d frames", a.Name, crf, n, len(orig))
	}
	q.Mean(n)
	return int(st.Size()), q, nil
}
