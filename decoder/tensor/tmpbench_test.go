package tensor

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkTmpConv32(b *testing.B) {
	cin, cout, h, w := 32, 32, 46, 640
	r := rand.New(rand.NewPCG(1, 2))
	c := &Conv{Cin: cin, Cout: cout, K: 3, Stride: 1, Weight: make([]float32, cin*cout*9), Bias: make([]float32, cout)}
	for i := range c.Weight {
		c.Weight[i] = r.Float32() - 0.5
	}
	in := Tensor{C: cin, H: h, W: w, Data: make([]float32, cin*h*w)}
	for i := range in.Data {
		in.Data[i] = r.Float32()
	}
	var out, scratch Tensor
	c.Apply(in, &out, &scratch, 1)
	b.ResetTimer()
	for range b.N {
		c.Apply(in, &out, &scratch, 1)
	}
	macs := float64(cin * cout * 9 * h * w)
	b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}
