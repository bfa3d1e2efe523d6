// Package shared locates the project's shared data folder (../shared beside the work
// tree: clips, traces, reference logs) for tests and tools.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder: $STRATA_SHARED if set, else ../shared beside the module
// root found from the working directory upward. It returns "" if there is none.
func Dir() string {
	if d := os.Getenv("STRATA_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			if st, err := os.Stat(s); err == nil && st.IsDir() {
				return s
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Require returns the path of rel inside the shared folder, or skips the test with a clear
// message when it is absent — except under CI=true, where absence fails the test.
func Require(t testing.TB, rel string) string {
	t.Helper()
	d := Dir()
	p := filepath.Join(d, rel)
	if d != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "shared data " + rel + " not found (expected ../shared beside the repository, or $STRATA_SHARED)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
