package template

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/hydrate"
)

func TestHydratorSubscribedToTopic(t *testing.T) {
	tpl := loadTemplate(t)
	if got := short(mustGet(t, tpl, "Resources", "OnFailureTopic", "Type")); got != "AWS::SNS::Topic" {
		t.Fatalf("OnFailureTopic type: got %s, want AWS::SNS::Topic", got)
	}
	events := mustGet(t, tpl, "Resources", "HydrateFunction", "Properties", "Events")
	subscribed := false
	for i := 1; i < len(events.Content); i += 2 {
		ev := events.Content[i]
		if short(get(ev, "Type")) == "SNS" && short(get(ev, "Properties", "Topic")) == "!Ref OnFailureTopic" {
			subscribed = true
		}
	}
	if !subscribed {
		t.Error("HydrateFunction: got no SNS event on !Ref OnFailureTopic, want one")
	}
	if got := short(mustGet(t, tpl, "Outputs", "OnFailureTopicArn", "Value")); got != "!Ref OnFailureTopic" {
		t.Errorf("OnFailureTopicArn output: got %s, want !Ref OnFailureTopic", got)
	}
}

func TestEnvironmentWiring(t *testing.T) {
	tests := map[string]struct {
		function, variable string
		want               string // a !Ref (resource or parameter) the value must contain
	}{
		"hydrate archive bucket": {"HydrateFunction", "STREAMDLQ_ARCHIVE_BUCKET", "ArchiveBucket"},
		"hydrate archive prefix": {"HydrateFunction", "STREAMDLQ_ARCHIVE_PREFIX", "ArchivePrefix"},
		"hydrate DLQ":            {"HydrateFunction", "STREAMDLQ_DLQ_URL", "DeadLetterQueue"},
		"hydrate bus":            {"HydrateFunction", "STREAMDLQ_EVENT_BUS", "EventBus"},
		"hydrate allowlist":      {"HydrateFunction", "STREAMDLQ_ALLOWED_STREAMS", "AllowedStreams"},
		"hydrate role map":       {"HydrateFunction", "STREAMDLQ_ROLE_MAP", "CrossAccountRoleMap"},
		"hydrate KMS key":        {"HydrateFunction", "STREAMDLQ_KMS_KEY_ID", "KmsKeyArn"},
		"hydrate log level":      {"HydrateFunction", "AWS_LAMBDA_LOG_LEVEL", "LogLevel"},
		"redrive DLQ":            {"RedriveFunction", "STREAMDLQ_DLQ_URL", "DeadLetterQueue"},
		"redrive parking queue":  {"RedriveFunction", "STREAMDLQ_PARKING_QUEUE_URL", "ParkingQueue"},
		"redrive archive bucket": {"RedriveFunction", "STREAMDLQ_ARCHIVE_BUCKET", "ArchiveBucket"},
		"redrive archive prefix": {"RedriveFunction", "STREAMDLQ_ARCHIVE_PREFIX", "ArchivePrefix"},
		"redrive targets":        {"RedriveFunction", "STREAMDLQ_REDRIVE_TARGETS", "RedriveTargets"},
		"redrive max receives":   {"RedriveFunction", "STREAMDLQ_MAX_RECEIVE_COUNT", "MaxReceiveCount"},
		"redrive share":          {"RedriveFunction", "STREAMDLQ_REDRIVE_SHARE", "RedriveShare"},
		"redrive rate":           {"RedriveFunction", "STREAMDLQ_REDRIVE_RATE", "RedriveRate"},
		"redrive max rate":       {"RedriveFunction", "STREAMDLQ_REDRIVE_MAX_RATE", "RedriveMaxRate"},
		"redrive max bytes":      {"RedriveFunction", "STREAMDLQ_REDRIVE_MAX_BYTES", "RedriveMaxBytes"},
		"redrive log level":      {"RedriveFunction", "AWS_LAMBDA_LOG_LEVEL", "LogLevel"},
		"redrive KMS key":        {"RedriveFunction", "STREAMDLQ_KMS_KEY_ID", "KmsKeyArn"},
		"hydrate deaggregation":  {"HydrateFunction", "STREAMDLQ_DEAGGREGATE", "Deaggregate"},
	}
	tpl := loadTemplate(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := get(tpl, "Resources", tc.function, "Properties", "Environment", "Variables", tc.variable)
			if v == nil {
				t.Fatalf("%s has no %s", tc.function, tc.variable)
			}
			if !refs(v, tc.want) {
				t.Errorf("%s %s: got %s, want a !Ref %s", tc.function, tc.variable, short(v), tc.want)
			}
		})
	}
}

func TestEventInvokeConfigParksInOwnQueue(t *testing.T) {
	tpl := loadTemplate(t)
	onFailure := mustGet(t, tpl, "Resources", "HydrateFunction", "Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure")
	if got := short(get(onFailure, "Type")); got != "SQS" {
		t.Errorf("OnFailure Type: got %s, want SQS", got)
	}
	if got := short(get(onFailure, "Destination")); got != "!GetAtt HydrateFailureQueue.Arn" {
		t.Errorf("OnFailure Destination: got %s, want !GetAtt HydrateFailureQueue.Arn", got)
	}
	if got := short(mustGet(t, tpl, "Resources", "HydrateFailureQueue", "Type")); got != "AWS::SQS::Queue" {
		t.Errorf("HydrateFailureQueue type: got %s, want AWS::SQS::Queue", got)
	}
	if got := short(get(tpl, "Resources", "RedriveFunction", "Properties", "EventInvokeConfig", "MaximumRetryAttempts")); got != "0" {
		t.Errorf("RedriveFunction async retries: got %s, want 0 (a retried run would overlap the next scheduled one)", got)
	}
	if refs(get(tpl, "Resources", "RedriveFunction", "Properties", "Environment"), "HydrateFailureQueue") {
		t.Error("RedriveFunction is told about HydrateFailureQueue; want only the hydrator to drain it")
	}
	if !refs(get(tpl, "Resources", "HydrateFunction", "Properties", "Environment", "Variables", "STREAMDLQ_FAILURE_QUEUE_URL"), "HydrateFailureQueue") {
		t.Error("HydrateFunction STREAMDLQ_FAILURE_QUEUE_URL: want !Ref HydrateFailureQueue, the queue its rehydration drains")
	}
}

// The rehydration schedule invokes the hydrator with the event that makes it drain its
// failure queue, and the hydrator may receive, delete and hide messages there.
func TestRehydrateSchedule(t *testing.T) {
	tpl := loadTemplate(t)
	target := mustGet(t, tpl, "Resources", "RehydrateSchedule", "Properties", "Target")
	if got := short(get(target, "Arn")); got != "!GetAtt HydrateFunction.Arn" {
		t.Errorf("RehydrateSchedule target: got %s, want the hydrate function", got)
	}
	var input struct{ Source string }
	if err := json.Unmarshal([]byte(short(get(target, "Input"))), &input); err != nil || input.Source != hydrate.RehydrateEvent {
		t.Errorf("RehydrateSchedule input: got source %q (%v), want %q", input.Source, err, hydrate.RehydrateEvent)
	}
	var drain statement
	for _, st := range statementsBySid(tpl, "ParkOwnFailedInvocations") {
		drain = st
	}
	var actions []string
	for _, a := range items(get(drain.node, "Action")) {
		actions = append(actions, a.Value)
	}
	for _, want := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} {
		if !slices.Contains(actions, want) {
			t.Errorf("HydrateRole on HydrateFailureQueue: got %v, want %s", actions, want)
		}
	}
}

func TestQueues(t *testing.T) {
	tpl := loadTemplate(t)
	dlq := mustGet(t, tpl, "Resources", "DeadLetterQueue", "Properties")
	visibility, _ := strconv.Atoi(short(get(dlq, "VisibilityTimeout")))
	timeout, _ := strconv.Atoi(short(mustGet(t, tpl, "Resources", "RedriveFunction", "Properties", "Timeout")))
	if timeout == 0 || visibility < timeout {
		t.Errorf("DLQ VisibilityTimeout: got %d, want >= the redrive's Timeout %d (it polls the DLQ itself)", visibility, timeout)
	}
	if got := short(get(dlq, "RedrivePolicy", "deadLetterTargetArn")); got != "!GetAtt ParkingQueue.Arn" {
		t.Errorf("DLQ redrive target: got %s, want !GetAtt ParkingQueue.Arn", got)
	}
	// The redrive parks by its own attempt count (STREAMDLQ_MAX_RECEIVE_COUNT); the
	// queue's count is a backstop that must never come first.
	backstop, _ := strconv.Atoi(short(get(dlq, "RedrivePolicy", "maxReceiveCount")))
	most, _ := strconv.Atoi(short(mustGet(t, tpl, "Parameters", "MaxReceiveCount", "MaxValue")))
	if most == 0 || backstop < 5*most {
		t.Errorf("DLQ maxReceiveCount: got %d, want a backstop well above the redrive's largest MaxReceiveCount %d", backstop, most)
	}
	for name, q := range resources(tpl, "AWS::SQS::Queue") {
		p := get(q, "Properties")
		if get(p, "SqsManagedSseEnabled") == nil || get(p, "KmsMasterKeyId") == nil {
			t.Errorf("%s: got no SqsManagedSseEnabled/KmsMasterKeyId pair, want SSE either way", name)
		}
	}
}

func TestFunctionsBuildAsDeployed(t *testing.T) {
	tpl := loadTemplate(t)
	globals := mustGet(t, tpl, "Globals", "Function")
	want := map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": "."}
	for k, v := range want {
		if got := short(get(globals, k)); got != v {
			t.Errorf("Globals %s: got %s, want %s", k, got, v)
		}
	}
	if arch := get(globals, "Architectures"); arch == nil || len(arch.Content) != 1 || arch.Content[0].Value != "arm64" {
		t.Errorf("Globals Architectures: got %v, want [arm64]", arch)
	}
	makefile := readRepoFile(t, "Makefile")
	for name, fn := range resources(tpl, "AWS::Serverless::Function") {
		if got := short(get(fn, "Metadata", "BuildMethod")); got != "makefile" {
			t.Errorf("%s BuildMethod: got %s, want makefile", name, got)
		}
		if get(fn, "Properties", "Role") == nil || get(fn, "Properties", "Policies") != nil {
			t.Errorf("%s: want its own Role and no SAM Policies (SAM's role adds a managed policy this test cannot see)", name)
		}
		cmd := "./cmd/" + strings.ToLower(strings.TrimSuffix(name, "Function"))
		target := regexp.MustCompile(`(?m)^build-` + name + `:\n\t(.*)$`).FindStringSubmatch(makefile)
		if target == nil {
			t.Errorf("Makefile: got no build-%s target, want one", name)
			continue
		}
		for _, part := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-tags lambda.norpc", "-o $(ARTIFACTS_DIR)/bootstrap " + cmd} {
			if !strings.Contains(target[1], part) {
				t.Errorf("build-%s: got %q, want it to contain %q", name, target[1], part)
			}
		}
	}
}

func TestOutputsExported(t *testing.T) {
	tpl := loadTemplate(t)
	for name, want := range map[string]string{
		"OnFailureTopicArn": "OnFailureTopic", "DeadLetterQueueUrl": "DeadLetterQueue",
		"ParkingQueueUrl": "ParkingQueue", "ArchiveBucketName": "ArchiveBucket",
	} {
		out := mustGet(t, tpl, "Outputs", name)
		if !refs(get(out, "Value"), want) || get(out, "Export", "Name") == nil {
			t.Errorf("output %s: got %s, want an exported !Ref %s", name, short(get(out, "Value")), want)
		}
	}
}

// Claim-check bodies stand in for DLQ messages: they must outlive the queues' retention
// and expire on their own, not with the archive.
func TestClaimChecksExpireAfterTheQueues(t *testing.T) {
	tpl := loadTemplate(t)
	retention, _ := strconv.Atoi(short(mustGet(t, tpl, "Resources", "DeadLetterQueue", "Properties", "MessageRetentionPeriod")))
	for _, rule := range items(mustGet(t, tpl, "Resources", "ArchiveBucket", "Properties", "LifecycleConfiguration", "Rules")) {
		if !strings.HasSuffix(short(get(rule, "Prefix")), "/claim-check/") {
			continue
		}
		days, _ := strconv.Atoi(short(get(rule, "ExpirationInDays")))
		if days*86400 <= retention {
			t.Errorf("claim checks expire after %d days, want more than the DLQ's %d s retention", days, retention)
		}
		return
	}
	t.Error("no lifecycle rule expires <prefix>/claim-check/")
}
