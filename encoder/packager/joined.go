package packager

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/strata-player/strata/decoder/cmaf"
)

var joinedPath = regexp.MustCompile(`^s(\d+)-j(\d+)/seg-(\d+)\.m4s$`)

// JoinedSource builds the media segments of joined Representations from the per-layer
// segments of a presentation directory (for JoinedVirtual packaging). It returns
// fs.ErrNotExist for names that are not joined media segments or whose layers are missing.
func JoinedSource(root *os.Root) func(name string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		m := joinedPath.FindStringSubmatch(filepath.ToSlash(name))
		if m == nil {
			return nil, fs.ErrNotExist
		}
		s, _ := strconv.Atoi(m[1])
		k, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		if k < 1 || k > 64 || n < 1 {
			return nil, fs.ErrNotExist
		}
		jcfg, err := readInit(root, JoinedID(s, k))
		if err != nil {
			return nil, err
		}
		units := make([][]byte, k)
		var seg uint32
		for l := 0; l < k; l++ {
			cfg, err := readInit(root, LayerID(s, l))
			if err != nil {
				return nil, err
			}
			b, err := root.ReadFile(filepath.Join(LayerID(s, l), MediaName(n)))
			if err != nil {
				return nil, err
			}
			num, data, err := cmaf.ParseMedia(cfg, b)
			if err != nil {
				return nil, fmt.Errorf("%s segment %d: %w", LayerID(s, l), n, err)
			}
			seg, units[l] = num, data
		}
		return cmaf.BuildMedia(jcfg, seg, cmaf.Join(units))
	}
}

func readInit(root *os.Root, rep string) (cmaf.Config, error) {
	b, err := root.ReadFile(filepath.Join(rep, InitName))
	if err != nil {
		return cmaf.Config{}, err
	}
	return cmaf.ParseInit(b)
}
