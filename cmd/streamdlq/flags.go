package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/settings"
)

// usageError is a bad flag, configuration or input: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue usageError
	var na *hydrate.NotAllowedError
	var me *hydrate.MappingError
	var ie incompleteError
	var left leftError
	switch {
	case errors.As(err, &left):
		return exitLeft
	case errors.As(err, &na), errors.As(err, &me):
		return exitRefused
	case errors.As(err, &ie):
		return exitIncomplete
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

// envFlags are the settings a command reads, as flags (STREAMDLQ_DLQ_URL → --dlq-url).
// A flag that is set wins over the variable.
type envFlags map[string]*string

func newEnvFlags(fs *flag.FlagSet, reader settings.Function) envFlags {
	ef := envFlags{}
	for _, s := range settings.ReadBy(reader) {
		if s.Flag != "" {
			ef[s.Env] = fs.String(s.Flag, "", s.Usage())
		}
	}
	return ef
}

func (ef envFlags) lookup(name string) (string, bool) {
	if p, ok := ef[name]; ok && *p != "" {
		return *p, true
	}
	return os.LookupEnv(name)
}

// parseFlags parses args, turning flag errors into usage errors; positional is how
// many arguments must follow the flags.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, positional int) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() != positional {
		return usageError{fmt.Errorf("want %d arguments after the flags, got %d: %s", positional, fs.NArg(), strings.Join(fs.Args(), " "))}
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "" {
		return nil, usageError{errors.New("--event is required (a file, or - for standard input)")}
	}
	if name == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError{err}
	}
	return b, nil
}
