// Command demo is `make demo`: the 60-second tour of streamdlq on the local AWS that
// scripts/localaws.sh starts. See cmd/demo.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/streamdlq/streamdlq/internal/awsenv"
)

func main() {
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err == nil {
		err = Run(ctx, cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
