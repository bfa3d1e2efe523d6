package sim

import (
	"math"

	"github.com/strata-player/strata/abr"
	"github.com/strata-player/strata/net/trace"
)

// The constants of Pensieve's test/fixed_env.py.
const (
	LinkRTTMs          = 80.0
	PacketPayload      = 0.95
	DrainBufferSleepMs = 500.0
)

// Step is the outcome of one chunk download in the network model.
type Step struct {
	DelayMs   float64 // download time plus one RTT
	SleepMs   float64 // time slept because the buffer exceeded 60 s
	BufferS   float64 // after the chunk was added (and any sleep)
	RebufferS float64
	Bytes     int64
	// LoggedSleepMs is what fixed_env.py returns as sleep_time: its sleep loop decrements
	// the variable it returns, so Pensieve's logs add only the last partial interval to the
	// time column. Kept to write logs in Pensieve's exact format.
	LoggedSleepMs float64
}

// Env is Pensieve's test/fixed_env.py network model for one trace, exactly: the same
// arithmetic in the same order, so results agree with Pensieve's logs to the last bits.
// Buffer and delays are kept in milliseconds as there.
type Env struct {
	tr       *trace.Trace
	rttMs    float64
	payload  float64
	ptr      int
	lastTime float64
	bufferMs float64
	// passBytes is what one whole pass over the trace after a wrap delivers; a download
	// that would need more than skipPasses further passes skips them arithmetically, so
	// absurd traces (a trickle of bandwidth) cannot stall the simulator. Real traces
	// never take that branch, which keeps the arithmetic exactly Pensieve's.
	passBytes float64
}

const skipPasses = 1000

// LinkModel is the per-chunk round trip and the share of the trace's capacity that carries
// payload. Pensieve's values are 80 ms and 0.95.
type LinkModel struct {
	RTTMs   float64
	Payload float64
}

// PensieveLink is fixed_env.py's link.
var PensieveLink = LinkModel{RTTMs: LinkRTTMs, Payload: PacketPayload}

// NewEnv starts a session on tr with an empty buffer at the trace's first sample, with
// Pensieve's link. tr must be valid (as the parsers return them).
func NewEnv(tr *trace.Trace) *Env { return NewEnvLink(tr, PensieveLink) }

// NewEnvLink is NewEnv with another link model (e.g. a loopback origin shaped by the trace:
// no added round trip, full capacity).
func NewEnvLink(tr *trace.Trace, l LinkModel) *Env {
	e := &Env{tr: tr, ptr: 1, lastTime: tr.TimeS[0], rttMs: l.RTTMs, payload: l.Payload}
	prev := 0.0
	for i := 1; i < len(tr.TimeS); i++ {
		e.passBytes += tr.BandwidthMbps[i] * 1e6 / 8 * (tr.TimeS[i] - prev) * e.payload
		prev = tr.TimeS[i]
	}
	return e
}

// BufferS is the current buffer level in seconds.
func (e *Env) BufferS() float64 { return e.bufferMs / 1000 }

// Download fetches a chunk of size bytes of chunkS seconds of media.
func (e *Env) Download(size int64, chunkS float64) Step {
	delay := e.transfer(float64(size))
	delay = float64(delay*1000) + e.rttMs // conversions forbid FMA fusion
	rebuf := math.Max(delay-e.bufferMs, 0)
	e.bufferMs = math.Max(e.bufferMs-delay, 0)
	e.bufferMs += float64(chunkS * 1000)
	st := Step{DelayMs: delay, RebufferS: rebuf / 1000, Bytes: size}
	if e.bufferMs > abr.BufferThreshMs {
		drain := e.bufferMs - abr.BufferThreshMs
		sleep := math.Ceil(drain/DrainBufferSleepMs) * DrainBufferSleepMs
		e.bufferMs -= sleep
		st.SleepMs = sleep
		st.LoggedSleepMs = e.idle(sleep)
	}
	st.BufferS = e.bufferMs / 1000
	return st
}

// transfer moves fsize payload bytes over the trace from the cursor and returns the
// seconds it took (no round trip).
func (e *Env) transfer(fsize float64) float64 {
	t, bw := e.tr.TimeS, e.tr.BandwidthMbps
	delay := 0.0
	sent := 0.0
	for {
		throughput := bw[e.ptr] * 1e6 / 8
		duration := t[e.ptr] - e.lastTime
		payload := float64(throughput*duration) * e.payload
		if sent+payload > fsize {
			frac := (fsize - sent) / throughput / e.payload
			delay += frac
			e.lastTime += frac
			return delay
		}
		sent += payload
		delay += duration
		e.lastTime = t[e.ptr]
		if e.advance() && fsize-sent > skipPasses*e.passBytes {
			k := math.Floor((fsize-sent)/e.passBytes) - 1
			sent += k * e.passBytes
			delay += k * t[len(t)-1]
		}
	}
}

// idle moves the cursor sleepMs milliseconds on with the link unused and returns what is
// left of sleepMs in the interval it ends in (fixed_env.py's returned sleep_time).
func (e *Env) idle(sleepMs float64) float64 {
	t := e.tr.TimeS
	for {
		duration := t[e.ptr] - e.lastTime
		if duration > sleepMs/1000 {
			e.lastTime += sleepMs / 1000
			return sleepMs
		}
		sleepMs -= float64(duration * 1000)
		e.lastTime = t[e.ptr]
		e.advance()
	}
}

// advance moves to the next trace interval and reports whether it wrapped around.
func (e *Env) advance() bool {
	e.ptr++
	if e.ptr >= len(e.tr.BandwidthMbps) {
		// fixed_env.py loops back to index 1 with the clock at 0, not at TimeS[0].
		e.ptr = 1
		e.lastTime = 0
		return true
	}
	return false
}
