// Package archtest checks that imports follow the data flow (ARCHITECTURE.md): the player
// links no encoder, the link shaper no ABR code, no library the desktop window.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/strata-player/strata/"

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportsFollowTheDataFlow(t *testing.T) {
	for _, c := range []struct {
		pkg       string
		forbidden []string
	}{
		{"player", []string{"encoder", "render", "net/shape", "decoder/gpu", "abr/learn"}},
		{"net/shape", []string{"abr"}},
		{"net/live", []string{"player", "render", "abr"}},
		{"net/trace", []string{"abr", "player", "decoder"}},
		{"abr", []string{"player", "decoder", "encoder", "net/h3", "net/origin", "abr/learn"}},
		{"decoder", []string{"encoder", "player", "abr"}},
		{"render", []string{"render/window"}},
	} {
		for _, d := range deps(t, c.pkg) {
			for _, f := range c.forbidden {
				if d == module+f || strings.HasPrefix(d, module+f+"/") {
					t.Errorf("%s imports %s", c.pkg, d)
				}
			}
		}
	}
}
