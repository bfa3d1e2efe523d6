package decoder

// Exported entry points to the static-table symbol coder (cdf.go) and the tensor operations
// for codecs built on this engine in other packages (codec v2: decoder/nvc2).

// SymbolEncoder codes integers with static frequency tables on the range coder.
type SymbolEncoder struct{ e *rangeEncoder }

// NewSymbolEncoder starts an empty payload.
func NewSymbolEncoder() *SymbolEncoder { return &SymbolEncoder{newRangeEncoder(nil)} }

// Value codes v with table c (values outside the table's range are escaped).
func (s *SymbolEncoder) Value(c *CDF, v int) error { return s.e.encodeValue(c, v) }

// Symbol codes symbol s (0 ≤ s < c.Symbols()) of table c as it is (no escape).
func (s *SymbolEncoder) Symbol(c *CDF, sym int) { s.e.symbol(c, sym) }

// Bytes finishes the payload and returns it; the encoder must not be used afterwards.
func (s *SymbolEncoder) Bytes() []byte { return s.e.finish() }

// SymbolDecoder decodes a SymbolEncoder payload.
type SymbolDecoder struct{ d *rangeDecoder }

// NewSymbolDecoder reads payload b.
func NewSymbolDecoder(b []byte) *SymbolDecoder { return &SymbolDecoder{newRangeDecoder(b)} }

// Value decodes one integer coded with table c. Corrupt input yields some value and a sticky
// error (Err); it never panics.
func (s *SymbolDecoder) Value(c *CDF) int { return s.d.decodeValue(c) }

// Symbol decodes one symbol of table c (SymbolEncoder.Symbol's inverse).
func (s *SymbolDecoder) Symbol(c *CDF) int { return s.d.symbol(c) }

// Err is ErrRangeCoder once the payload turned out corrupt or truncated, else nil.
func (s *SymbolDecoder) Err() error { return s.d.err }

// Ensure returns t resized to c×h×w, reusing its storage when it is large enough.
func Ensure(t *Tensor, c, h, w int) Tensor { return ensure(t, c, h, w) }

// PixelShuffle is depth-to-space by r (torch.nn.functional.pixel_shuffle).
func PixelShuffle(in Tensor, r int, out *Tensor) Tensor { return pixelShuffle(in, r, out) }

// PixelUnshuffle is space-to-depth by r into channels [c0, c0+in.C·r²) of out, whose H and W
// must already be in.H/r and in.W/r (torch.nn.functional.pixel_unshuffle).
func PixelUnshuffle(in Tensor, r int, out Tensor, c0 int) { pixelUnshuffle(in, r, out, c0) }

// ReLU clamps negatives to zero in place.
func ReLU(d []float32) { relu(d) }
