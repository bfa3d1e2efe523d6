package learn

import (
	"fmt"
	"hash/fnv"
	"path/filepath"

	"github.com/strata-player/strata/net/trace"
)

// DefaultSets are the training sets of ../shared/abr/traces the learned policies use
// (mahimahi_ravinet and sabre_ghent_4g_json are left for testing).
var DefaultSets = []string{"pensieve_train", "genet_fcc_train", "genet_norway_train", "oboe", "swift_grad_dev"}

// Split says which part a trace belongs to, by a hash of its set and file name: "val"
// (20 %, never trained on, the reported numbers), "dev" (10 %, picks the best training
// iteration) or "train" (70 %).
func Split(set, name string) string {
	h := fnv.New32a()
	h.Write([]byte(set + "/" + name))
	switch x := h.Sum32() % 10; {
	case x == 0 || x == 5:
		return "val"
	case x == 1:
		return "dev"
	}
	return "train"
}

// LoadSplit loads the traces of the named sets under root that fall in part ("train",
// "dev", "val" or "all"), set by set in file-name order.
func LoadSplit(root string, sets []string, part string) ([]*trace.Trace, error) {
	switch part {
	case "train", "dev", "val", "all":
	default:
		return nil, fmt.Errorf("unknown split %q (want train, dev, val or all)", part)
	}
	var out []*trace.Trace
	for _, set := range sets {
		trs, err := trace.LoadDir(filepath.Join(root, set), trace.FormatAuto)
		if err != nil {
			return nil, err
		}
		for _, tr := range trs {
			if part == "all" || Split(set, filepath.Base(tr.Name)) == part {
				out = append(out, tr)
			}
		}
	}
	return out, nil
}
