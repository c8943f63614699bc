// Package settings declares every STREAMDLQ_* setting once: its environment variable,
// its CLI flag, its type, default and help, and which function reads it. The functions'
// LoadConfig read through a Loader, the CLI derives its flags and --help from All, and
// tests hold the README's table and the template's Environment blocks against All.
//
// Errors: a Loader collects one error per bad or missing variable, each naming the
// variable, and Err joins them (errors.Join) so a misconfigured function reports
// everything at once.
package settings
