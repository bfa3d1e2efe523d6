// Package encoder prepares content for strata: block motion search on original frames
// (docs/MOTION.md) and, later, the layered residual encoder and the packager. It runs the
// decoder package's networks so that what it writes is exactly what clients reconstruct.
package encoder
