package live

import (
	"regexp"
	"strconv"
)

// nameKind is what a request path below the channel names.
type nameKind int

const (
	nameMPD nameKind = iota
	nameQuality
	nameInit
	nameMedia
	nameModel // enhance/model-<n>.senh: n is the version
)

// name is a parsed request path: a layer (joined == 0) or joined Representation of
// variant s, and segment n (0-based) for media.
type name struct {
	kind        nameKind
	s, layer, n int
	joined      int
}

var (
	qualityName = regexp.MustCompile(`^quality-s([0-9]{1,2})\.json$`)
	modelName   = regexp.MustCompile(`^enhance/model-([0-9]{1,9})\.senh$`)
	repName     = regexp.MustCompile(`^s([0-9]{1,2})-([lj])([0-9]{1,2})/(init\.mp4|seg-([0-9]{1,8})\.m4s)$`)
)

// parseName maps the names the MPD's templates produce ($Number$ is 1-based) to a name.
func parseName(p string) (name, bool) {
	if p == "manifest.mpd" {
		return name{kind: nameMPD}, true
	}
	if m := qualityName.FindStringSubmatch(p); m != nil {
		s, _ := strconv.Atoi(m[1])
		return name{kind: nameQuality, s: s}, true
	}
	if m := modelName.FindStringSubmatch(p); m != nil {
		v, _ := strconv.Atoi(m[1])
		return name{kind: nameModel, n: v}, true
	}
	m := repName.FindStringSubmatch(p)
	if m == nil {
		return name{}, false
	}
	out := name{kind: nameInit}
	out.s, _ = strconv.Atoi(m[1])
	idx, _ := strconv.Atoi(m[3])
	if m[2] == "j" {
		if idx < 1 {
			return name{}, false
		}
		out.joined = idx
	} else {
		out.layer = idx
	}
	if m[5] != "" {
		num, _ := strconv.Atoi(m[5])
		if num < 1 {
			return name{}, false
		}
		out.kind, out.n = nameMedia, num-1
	}
	return out, true
}
