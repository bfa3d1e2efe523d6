package decoder

import "sync"

// RunBatch calls one(w, f) for every frame f of a batch of mutually independent frames (one
// LFR depth): whole rounds of one frame per worker w (0 ≤ w < workers, each on its own
// single-threaded coder), then the remainder one frame at a time with w = −1 (the caller's
// coder that uses every worker inside its operations), so no core idles while another
// finishes an odd frame. A batch of one frame, or workers ≤ 1, runs entirely with w = −1.
// The first error stops the batch.
func RunBatch(workers int, batch []int, one func(w, f int) error) error {
	full := 0
	if workers > 1 && len(batch) > 1 {
		full = len(batch) / workers * workers
	}
	if full > 0 {
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < full; i += workers {
					if err := one(w, batch[i]); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
	for _, f := range batch[full:] {
		if err := one(-1, f); err != nil {
			return err
		}
	}
	return nil
}
