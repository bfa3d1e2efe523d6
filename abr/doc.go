// Package abr holds the adaptive-bitrate side of strata: the Policy interface that the
// trace-driven simulator, the player and the ABR daemon all drive; bandwidth-trace parsers
// (Pensieve cooked, Mahimahi, Sabre JSON); an exact re-implementation of Pensieve's
// test/fixed_env.py network model; QoE models; the baseline policies (BBA, rate-based,
// BOLA, robustMPC), the layered ones (swift, lifter), the offline-optimal oracle (simulator
// only) and the learned policy (abr/models, trained by abr/learn).
//
// Nothing here logs or touches the file system except the explicit loaders (LoadVideo; traces are
// read by net/trace); parsers work on []byte.
package abr
