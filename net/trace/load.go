package trace

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Format names a trace file format.
type Format string

// The trace formats Load understands.
const (
	FormatAuto     Format = ""
	FormatCooked   Format = "cooked"
	FormatMahimahi Format = "mahimahi"
	FormatSabre    Format = "sabre"
)

// DetectFormat guesses a trace's format from its content: a JSON array is Sabre, a file
// whose first non-blank line is a single integer is Mahimahi, anything else is cooked.
func DetectFormat(data []byte) Format {
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '[' {
		return FormatSabre
	}
	for l := range bytes.Lines(t) {
		f := bytes.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) == 1 && bytes.IndexFunc(f[0], func(r rune) bool { return r < '0' || r > '9' }) < 0 {
			return FormatMahimahi
		}
		break
	}
	return FormatCooked
}

// Parse parses data in the given format (FormatAuto detects it).
func Parse(name string, data []byte, f Format) (*Trace, error) {
	if f == FormatAuto {
		f = DetectFormat(data)
	}
	switch f {
	case FormatCooked:
		return ParseCooked(name, data)
	case FormatMahimahi:
		return ParseMahimahi(name, data)
	case FormatSabre:
		return ParseSabre(name, data)
	}
	return nil, fmt.Errorf("%s: unknown trace format %q (want cooked, mahimahi or sabre)", name, f)
}

// Load reads and parses one trace file.
func Load(path string, f Format) (*Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, f)
}

// LoadDir loads every trace file in dir, sorted by name. Sub-directories, hidden
// files and documentation (README*, *.md) are skipped; any other file that does not parse
// is an error.
func LoadDir(dir string, f Format) ([]*Trace, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "README") || strings.HasSuffix(n, ".md") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no trace files", dir)
	}
	out := make([]*Trace, 0, len(names))
	for _, n := range names {
		tr, err := Load(filepath.Join(dir, n), f)
		if err != nil {
			return nil, err
		}
		tr.Name = n
		out = append(out, tr)
	}
	return out, nil
}
