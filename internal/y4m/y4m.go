// Package y4m reads and writes YUV4MPEG2 (Y4M) streams of 8-bit 4:2:0 frames, the
// interchange format of strata's encoder and decoder with ffmpeg.
package y4m

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/strata-player/strata/decoder"
)

// Header is a stream's parameters.
type Header struct {
	Width, Height  int
	FPSNum, FPSDen int
}

// ErrFormat is wrapped by every error about malformed Y4M.
var ErrFormat = errors.New("y4m")

// ParseHeader parses a stream header line (without its newline).
func ParseHeader(line []byte) (Header, error) {
	h := Header{FPSNum: 25, FPSDen: 1}
	f := strings.Fields(string(line))
	if len(f) == 0 || f[0] != "YUV4MPEG2" {
		return h, fmt.Errorf("%w: not a YUV4MPEG2 stream", ErrFormat)
	}
	for _, t := range f[1:] {
		var err error
		switch t[0] {
		case 'W':
			h.Width, err = strconv.Atoi(t[1:])
		case 'H':
			h.Height, err = strconv.Atoi(t[1:])
		case 'F':
			n, d, ok := strings.Cut(t[1:], ":")
			if !ok {
				return h, fmt.Errorf("%w: frame rate %q", ErrFormat, t)
			}
			if h.FPSNum, err = strconv.Atoi(n); err == nil {
				h.FPSDen, err = strconv.Atoi(d)
			}
		case 'C':
			if !strings.HasPrefix(t[1:], "420") {
				return h, fmt.Errorf("%w: colour space %s, only 4:2:0 is supported", ErrFormat, t[1:])
			}
		}
		if err != nil {
			return h, fmt.Errorf("%w: header field %q", ErrFormat, t)
		}
	}
	if h.Width <= 0 || h.Height <= 0 || h.Width%2 != 0 || h.Height%2 != 0 || h.Width > 16384 || h.Height > 16384 {
		return h, fmt.Errorf("%w: size %dx%d (want even sides up to 16384)", ErrFormat, h.Width, h.Height)
	}
	if h.FPSNum <= 0 || h.FPSDen <= 0 {
		return h, fmt.Errorf("%w: frame rate %d:%d", ErrFormat, h.FPSNum, h.FPSDen)
	}
	return h, nil
}

// Reader reads frames from a Y4M stream.
type Reader struct {
	Header
	r *bufio.Reader
	n int
}

// NewReader parses the stream header.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", ErrFormat, err)
	}
	h, err := ParseHeader(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return nil, err
	}
	return &Reader{Header: h, r: br}, nil
}

// Next reads the next frame into f (allocated if nil or of another size). It returns
// io.EOF after the last frame and an error for a truncated one.
func (r *Reader) Next(f *decoder.Frame) (*decoder.Frame, error) {
	line, err := r.r.ReadSlice('\n')
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	if err != nil || !bytes.HasPrefix(line, []byte("FRAME")) {
		return nil, fmt.Errorf("%w: frame %d: bad frame header", ErrFormat, r.n)
	}
	if f == nil || f.W != r.Width || f.H != r.Height {
		f = decoder.NewFrame(r.Width, r.Height)
	}
	for _, p := range [][]byte{f.Y, f.U, f.V} {
		if _, err := io.ReadFull(r.r, p); err != nil {
			return nil, fmt.Errorf("%w: frame %d truncated: %v", ErrFormat, r.n, err)
		}
	}
	r.n++
	return f, nil
}

// Writer writes a Y4M stream.
type Writer struct {
	w *bufio.Writer
	h Header
}

// NewWriter writes the stream header.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	bw := bufio.NewWriter(w)
	_, err := fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg\n", h.Width, h.Height, h.FPSNum, h.FPSDen)
	return &Writer{w: bw, h: h}, err
}

// Write appends one frame of the header's size.
func (w *Writer) Write(f *decoder.Frame) error {
	if f.W != w.h.Width || f.H != w.h.Height {
		return fmt.Errorf("y4m: frame %dx%d in a %dx%d stream", f.W, f.H, w.h.Width, w.h.Height)
	}
	w.w.WriteString("FRAME\n")
	for _, p := range [][]byte{f.Y, f.U, f.V} {
		if _, err := w.w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes the stream.
func (w *Writer) Close() error { return w.w.Flush() }
