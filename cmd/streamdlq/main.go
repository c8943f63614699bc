// Command streamdlq is the operators' CLI: hydrate an on-failure record by hand, redrive
// failures, invoke the Lambda handlers in-process, and list or show failures. It uses
// the same packages as the Lambda functions and has no logic of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitFailed  = 1 // the work ran and something was not done (see stderr)
	exitUsage   = 2 // bad flags, configuration or input
	exitRefused = 3 // a stream outside the allowlist, or a claim check outside the archive
	// exitIncomplete: hydrate ran, but a failure was not completely captured (a gap, or
	// the --timeout ran out); stderr says what is missing and what a rerun will do.
	exitIncomplete = 4
	exitLeft       = 5 // redrive: records left undelivered or failures without a route; they stay queued
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"hydrate": {"read an on-failure record's records back; archive and queue them unless --dry-run", runHydrate},
	"ls":      {"list the failures in the archive: stream, shard, range, records, status, age", runLs},
	"redrive": {"replay failures from the DLQ or the archive to their targets, under throttle awareness", runRedrive},
	"invoke":  {"run the hydrate or redrive Lambda handler in-process on an event file", runInvoke},
	"jobs":    {"list the resumable archive replays (redrive --job) and their progress", runJobs},
	"show":    {"show one archived failure and its records, decoded (payloads only with --payloads)", runShow},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "streamdlq: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "streamdlq %s: %v\n", args[0], err)
	return exitCode(err)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: streamdlq COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'streamdlq COMMAND --help' for a command's flags. The standard AWS environment\n(AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL...) configures the AWS clients.")
}
