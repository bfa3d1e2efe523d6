// Package player is strata's playback engine: a session fetches a DASH presentation over
// any *http.Client (HTTP/3 in the product), lets an abr.Policy choose what to download after
// every transfer, keeps a layered segment buffer, decodes each segment with the layers it
// holds when the segment enters the decode window, and presents frames on a media clock,
// accounting stalls and QoE. Two goroutines own the work — the downloader and the player —
// and share only the buffer. The clock is injected; nothing here logs.
package player
