// Package template holds the checks that keep the deployable application wired:
// template.yaml, samconfig.toml, the Makefile's build-<Function> targets and the
// sample events in events/, against each other and against what the functions read.
//
// It owns no runtime code: its tests parse template.yaml with gopkg.in/yaml.v3,
// keeping CloudFormation short-form tags (!Ref, !GetAtt, !Sub, !If) as node tags, and
// assert the wiring cfn-lint and sam validate cannot see (which queue a function is
// told about, which principals a policy admits). The sample events must parse as the
// inputs they claim to be; under `make test` the two bootstraps, built for the host
// with -tags lambda.norpc, run under internal/testkit/runtimeapi with exactly the environment
// the template gives them and take every sample against the local AWS.
// scripts/check-template.sh runs the tools themselves (cfn-lint, sam validate --lint,
// sam build).
//
// Error contract: none; a broken wiring is a failing test naming the resource.
package template
