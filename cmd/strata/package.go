package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/strata-player/strata/encoder/packager"
)

func runPackage(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "encoded directories (strata encode --out), comma-separated, one per sub-GOP variant")
	out := fs.String("out", "", "output directory for manifest.mpd and the CMAF segments")
	joined := fs.String("joined", "virtual", "joined Representations (layers 0..k-1 in one object): files, virtual (built by strata serve from the layer files) or none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("--in and --out are required")
	}
	modes := map[string]packager.JoinedMode{"none": packager.JoinedNone, "files": packager.JoinedFiles, "virtual": packager.JoinedVirtual}
	mode, ok := modes[*joined]
	if !ok {
		return fmt.Errorf("--joined %q: want files, virtual or none", *joined)
	}
	m, err := packager.Package(strings.Split(*in, ","), *out, packager.Options{Joined: mode})
	if err != nil {
		return err
	}
	n := 0
	for _, as := range m.Periods[0].AdaptationSets {
		n += len(as.Representations)
	}
	fmt.Fprintf(stdout, "%s/manifest.mpd: %d adaptation sets, %d representations\n", *out, len(m.Periods[0].AdaptationSets), n)
	return nil
}
