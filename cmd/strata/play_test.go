package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestPlayDemo plays the embedded demo to the end through the in-process HTTP/3 origin.
func TestPlayDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"play", "--headless", "--untimed", "--json"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	for _, k := range []string{"policy", "segments", "startup_ms", "stalls", "stall_s", "avg_layers", "avg_psnr_y", "qoe", "decode_fps", "dropped_frames"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
	if sum["segments"].(float64) != 15 || sum["frames"].(float64) != 600 || sum["dropped_frames"].(float64) != 0 {
		t.Fatalf("the demo did not play to the end: %s", out.String())
	}
	t.Logf("%s", out.String())
}
