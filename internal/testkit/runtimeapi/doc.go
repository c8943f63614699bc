// Package runtimeapi is a test-side Lambda Runtime API: an httptest.Server that speaks
// the 2018-06-01 protocol a custom runtime's bootstrap polls (invocation/next,
// invocation/{id}/response, invocation/{id}/error, init/error), so tests can run the
// very bootstrap binaries that are deployed — built with -tags lambda.norpc for the
// host — and invoke them as Lambda would.
//
// It owns the protocol only: it builds nothing, knows no streamdlq types and has no
// AWS behind it beyond what the caller puts in the function's environment.
//
// Error contract. Invoke returns a Result for every invocation the function took:
// a function error (the /error body), a timeout (errorType "Sandbox.Timedout") or a
// process that died mid-invocation ("Runtime.ExitError") are Results with Err set,
// as Lambda would report them to a caller. Invoke returns an error only when the
// invocation never reached the function: ctx ended first, the payload is over the
// limit, the server is closed or the function process has already exited (or failed
// its init, see InitError). Unlike Lambda, nothing restarts a dead function.
package runtimeapi
