// Package entropy is the codec's entropy coding: the adaptive binary range coder of LZMA
// (motion vectors and modes) and static frequency tables (CDF) coded on the same coder
// (the latents' symbols). Decoding never panics: corrupt or truncated input yields a sticky
// error (Decoder.Err).
package entropy
