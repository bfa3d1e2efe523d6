package assets

import (
	"embed"
	"io/fs"
)

//go:embed all:demo
var demo embed.FS

// Demo is the demo presentation (assets/demo): manifest.mpd, quality tables, CMAF segments.
func Demo() fs.FS {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
