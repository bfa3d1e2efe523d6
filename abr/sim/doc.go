// Package sim runs abr's policies over bandwidth traces: an exact re-implementation of
// Pensieve's test/fixed_env.py network model (Env), the classic chunk simulator, the layered
// simulator that models the player's buffer, decode window and decode speed, the offline
// oracles (simulator only: they read the trace ahead) and Pensieve-format logs.
package sim
