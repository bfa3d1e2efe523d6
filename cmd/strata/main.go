// Command strata is the headless multitool of the strata project. Subcommands:
//
//	strata sim     trace-driven ABR simulator (Pensieve's network model, exact)
//	strata encode  layered neural-codec encoder (Y4M in, per-layer units + stream.json out)
//	strata decode  decoder (stream directory in, Y4M out)
//	strata package CMAF + DASH packager
//	strata serve   HTTP/3 origin with trace-shaped links; --live: a live channel
//	strata ingest  the streamer: publishes a layered stream live to strata serve --live
//	strata play    headless player (HTTP/3, ABR, decode, QoE summary)
//	strata abrd    ABR daemon (HTTP/JSON decisions for dash.js and others)
//	strata codec-eval  RD points, BD-rate against x264/x265, decode speed
//
// Each subcommand has its own flags: strata <command> -h.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	"github.com/strata-player/strata/internal/playcli"
)

func main() {
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, NoColor: true}).With().Timestamp().Logger()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Error().Err(err).Msg("strata")
		os.Exit(exitCode(err))
	}
}

// Exit codes (as mpv's): 1 usage or initialisation error, 2 playback failed, 4 interrupted.
const (
	exitUsage       = playcli.ExitUsage
	exitPlayback    = playcli.ExitPlayback
	exitInterrupted = playcli.ExitInterrupted
)

// codedError carries an exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func exitCode(err error) int {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitUsage
}

type command struct {
	name, help string
	run        func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"sim", "run ABR policies over network traces (Pensieve's simulator; the layered one for strata streams)", runSim},
		{"train-abr", "train the learned ABR policy in the simulator by imitating the oracle (DAgger)", runTrainABR},
		{"encode", "code a Y4M clip with the layered neural codec", runEncode},
		{"decode", "decode an encoded stream with k layers to Y4M", runDecode},
		{"package", "package encoded streams as CMAF + DASH (MPD, per-layer and joined representations)", runPackage},
		{"serve", "HTTP/3 (+HTTP/1.1, HTTP/2) origin for a packaged directory, optionally trace-shaped", runServe},
		{"ingest", "go live to a live origin (strata serve --live): encode raw Y4M frames as they arrive (--source -), or publish a pre-encoded layered stream; through an optional shaped uplink", runIngest},
		{"play", "headless playback of a DASH presentation over HTTP/3 (--headless)", runPlay},
		{"abrd", "ABR daemon: strata's policies over HTTP/JSON for other players (dash.js)", runABRD},
		{"bench", "decode speed per backend and sub-GOP size (Go benchmark lines or JSON)", runBench},
		{"codec-eval", "RD and decode speed of the codec against x264/x265 (BD-rate)", runCodecEval},
		{"enhance-train", "pre-train the generic enhancement model (the start of a live stream's online training) on source/decoded clip pairs", runEnhanceTrain},
		{"enhance-eval", "simulate a live session's online-learned enhancement (LiveNAS) on a clip: PSNR over time, patch rate", runEnhanceEval},
		{"resample", "halve a clip's resolution (bicubic, box or a learned downsampler) or double it (bicubic or a learned upsampler)", runResample},
		{"resample-eval", "the half-resolution rungs (bicubic and learned down/up) against each other and the full-resolution rung: RD points, BD-rates", runResampleEval},
		{"refit-tables", "re-fit the codec's entropy tables to the symbols its encoder sends (training clips)", runRefit},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: strata <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nrun 'strata <command> -h' for a command's flags")
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}
