// Package abr is the core of strata's adaptive bitrate: the Policy interface that the
// trace-driven simulators (abr/sim), the player and the ABR daemon (abr/daemon) all drive;
// the video model and QoE models; the baseline policies (BBA, rate-based, BOLA, robustMPC),
// the layered ones (swift, lifter) and the learned policy (abr/models, trained by
// abr/learn). It imports no transport: traces and the network model are abr/sim's.
//
// Nothing here logs or touches the file system except the explicit loaders (LoadVideo);
// parsers work on []byte.
package abr
