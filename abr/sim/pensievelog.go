package sim

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// WritePensieveLog writes r in the column format of Pensieve's simulator logs: time_s,
// bitrate_kbps, buffer_s, rebuffer_s, chunk_bytes, delay_ms, reward, tab-separated, floats
// as Python's str() prints them, and a blank line after the last chunk.
func WritePensieveLog(w io.Writer, r TraceResult) error {
	bw := bufio.NewWriter(w)
	for _, c := range r.Chunks {
		bw.WriteString(PyFloat(c.TimeS))
		bw.WriteByte('\t')
		bw.WriteString(strconv.FormatInt(int64(c.BitrateKbps), 10))
		bw.WriteByte('\t')
		bw.WriteString(PyFloat(c.BufferS))
		bw.WriteByte('\t')
		bw.WriteString(PyFloat(c.RebufferS))
		bw.WriteByte('\t')
		bw.WriteString(strconv.FormatInt(c.Bytes, 10))
		bw.WriteByte('\t')
		bw.WriteString(PyFloat(c.DelayMs))
		bw.WriteByte('\t')
		bw.WriteString(PyFloat(c.Reward))
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// PyFloat formats x as Python 3's repr/str of a float: the shortest round-trip digits,
// a ".0" on integral values, and exponent form below 1e-4 or from 1e16.
func PyFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	a := math.Abs(x)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(x, 'e', -1, 64)
		// Go writes e-05 / e+16; Python writes e-05 / e+16 as well.
		return s
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
