// Package archtest checks that imports follow the data flow (ARCHITECTURE.md): net/ is
// transport only (no codec, no policy), abr's policy core imports no transport and no
// simulator, the live pipeline sits above encoder and decoder, the player links no encoder,
// and no library links the desktop window.
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
		{"player", []string{"encoder", "render", "net/shape", "decoder/gpu", "abr/learn", "abr/sim", "live"}},
		// Transport only: no codec, no policy, no player.
		{"net/h3", []string{"decoder", "encoder", "abr", "player", "live"}},
		{"net/fetch", []string{"decoder", "encoder", "abr", "player", "live"}},
		{"net/shape", []string{"decoder", "encoder", "abr", "player", "live"}},
		{"net/trace", []string{"decoder", "encoder", "abr", "player", "live"}},
		{"net/origin", []string{"decoder", "encoder", "abr", "player", "live"}},
		// The live pipeline sits above encoder and decoder, beside the player.
		{"live", []string{"player", "render", "abr"}},
		// The policy core: no transport, no simulator, no codec.
		{"abr", []string{"net", "player", "decoder", "encoder", "abr/learn", "abr/sim", "live"}},
		{"abr/sim", []string{"player", "decoder", "encoder", "live", "net/h3", "net/fetch", "net/origin"}},
		{"decoder", []string{"encoder", "player", "abr", "net", "live"}},
		{"encoder", []string{"player", "abr", "net", "live"}},
		{"encoder/eval", []string{"player", "abr", "net", "live"}},
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
