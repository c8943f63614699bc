package template

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// unscopable lists the actions AWS authorizes only on Resource "*", with why each is
// needed. EMF metrics need no cloudwatch:PutMetricData; an entry here must say which
// AWS documentation makes the action unscopable.
var unscopable = map[string]string{
	"lambda:ListEventSourceMappings": "the hydrator checks that a failure's function has a mapping sending failures here, " +
		"and the redrive's consumer target re-applies its mapping's filters (configuration only, no data); " +
		"the Service Authorization Reference (Actions defined by AWS Lambda) lists no resource type for it",
	// A hydrator or redrive in a VPC (HydrateSubnetIds, RedriveSubnetIds): Lambda manages
	// its network interfaces with the function's role.
	"ec2:DescribeNetworkInterfaces": "Lambda's VPC documentation: the action only works when allowed on all resources; " +
		"the Service Authorization Reference (Actions defined by Amazon EC2) lists no resource type for it",
	"ec2:DescribeSubnets": "Lambda checks the function's subnets (AWSLambdaVPCAccessExecutionRole grants it); " +
		"the Service Authorization Reference (Actions defined by Amazon EC2) lists no resource type for it",
}

var actionName = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

// statement is one policy statement with where it came from.
type statement struct {
	where string
	node  *yaml.Node
}

// identityStatements returns every statement of the roles' inline policies and of
// standalone IAM policies, each !If branch separately.
func identityStatements(tpl *yaml.Node) []statement {
	var out []statement
	add := func(where string, doc *yaml.Node) {
		for i, s := range items(get(doc, "Statement")) {
			out = append(out, statement{fmt.Sprintf("%s statement %d (%s)", where, i, short(get(s, "Sid"))), s})
		}
	}
	for name, r := range resources(tpl, "AWS::IAM::Role") {
		for _, p := range items(get(r, "Properties", "Policies")) {
			add(name+" "+short(get(p, "PolicyName")), get(p, "PolicyDocument"))
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for name, r := range resources(tpl, typ) {
			add(name, get(r, "Properties", "PolicyDocument"))
		}
	}
	return out
}

func TestIdentityPoliciesScoped(t *testing.T) {
	stmts := identityStatements(loadTemplate(t))
	if len(stmts) < 10 {
		t.Fatalf("got %d identity policy statements, want the roles' statements (>= 10)", len(stmts))
	}
	for _, s := range stmts {
		if get(s.node, "NotAction") != nil || get(s.node, "NotResource") != nil || short(get(s.node, "Effect")) != "Allow" {
			t.Errorf("%s: want Effect Allow with Action and Resource, no Not*", s.where)
		}
		actions := items(get(s.node, "Action"))
		for _, a := range actions {
			if custom(a) || !actionName.MatchString(a.Value) {
				t.Errorf("%s: action %s: want a literal service:Action without wildcards", s.where, short(a))
			}
		}
		for _, r := range items(get(s.node, "Resource")) {
			if err := scopedResource(r); err != nil && !allUnscopable(actions) {
				t.Errorf("%s: resource %s: %v", s.where, short(r), err)
			}
		}
	}
}

// scopedResource accepts an ARN literal, an ARN built by !Sub, an attribute or
// parameter reference, or a parameter split into ARNs; never "*" or an ARN whose
// account or service part is a wildcard.
func scopedResource(r *yaml.Node) error {
	switch {
	case r == nil:
		return fmt.Errorf("missing")
	case r.Tag == "!GetAtt" || r.Tag == "!Ref" || r.Tag == "!Split" || r.Tag == "!Select":
		return nil
	case r.Kind != yaml.ScalarNode:
		return fmt.Errorf("want an ARN, !Sub, !GetAtt, !Ref or !Split")
	}
	v := r.Value
	if !strings.HasPrefix(v, "arn:") && !strings.HasPrefix(v, "${") {
		return fmt.Errorf("want an ARN")
	}
	if parts := strings.SplitN(v, ":", 6); strings.HasPrefix(v, "arn:") && (len(parts) < 6 || strings.Contains(parts[2], "*") || strings.Contains(parts[4], "*")) {
		return fmt.Errorf("want service and account named")
	}
	return nil
}

func allUnscopable(actions []*yaml.Node) bool {
	for _, a := range actions {
		if _, ok := unscopable[a.Value]; !ok {
			return false
		}
	}
	return len(actions) > 0
}

func TestBucketPolicyDeniesInsecureTransport(t *testing.T) {
	tpl := loadTemplate(t)
	doc := mustGet(t, tpl, "Resources", "ArchiveBucketPolicy", "Properties", "PolicyDocument")
	if got := short(mustGet(t, tpl, "Resources", "ArchiveBucketPolicy", "Properties", "Bucket")); got != "!Ref ArchiveBucket" {
		t.Fatalf("bucket policy bucket: got %s, want !Ref ArchiveBucket", got)
	}
	for _, s := range items(get(doc, "Statement")) {
		if short(get(s, "Effect")) != "Deny" || short(get(s, "Principal")) != "*" || short(get(s, "Condition", "Bool", "aws:SecureTransport")) != "false" {
			continue
		}
		var onBucket, onObjects bool
		for _, r := range items(get(s, "Resource")) {
			onBucket = onBucket || short(r) == "!GetAtt ArchiveBucket.Arn"
			onObjects = onObjects || short(r) == "!Sub ${ArchiveBucket.Arn}/*"
		}
		if short(get(s, "Action")) == "s3:*" && onBucket && onObjects {
			return
		}
	}
	t.Error("ArchiveBucketPolicy: got no Deny s3:* on the bucket and its objects when aws:SecureTransport is false")
}

func TestTopicPolicyAdmitsOnlyPublishers(t *testing.T) {
	tpl := loadTemplate(t)
	props := mustGet(t, tpl, "Resources", "OnFailureTopicPolicy", "Properties")
	if topics := items(get(props, "Topics")); len(topics) != 1 || short(topics[0]) != "!Ref OnFailureTopic" {
		t.Fatalf("topic policy Topics: want [!Ref OnFailureTopic]")
	}
	allows := 0
	for _, s := range items(get(props, "PolicyDocument", "Statement")) {
		if short(get(s, "Effect")) != "Allow" {
			continue
		}
		allows++
		if got := short(get(s, "Action")); got != "sns:Publish" {
			t.Errorf("topic Allow action: got %s, want sns:Publish only", got)
		}
		for _, p := range branches(get(s, "Principal", "AWS")) {
			if !refs(p, "PublisherPrincipals") && short(p) != "!Ref AWS::AccountId" {
				t.Errorf("topic Allow principal: got %s, want PublisherPrincipals or this account", short(p))
			}
		}
		if get(s, "Principal", "Service") != nil || short(get(s, "Principal")) == "*" {
			t.Errorf("topic Allow: got principal %s, want only the listed publishers", short(get(s, "Principal")))
		}
	}
	if allows == 0 {
		t.Error("topic policy: got no Allow, want publishers admitted")
	}
}

func TestServicePrincipalsConfused(t *testing.T) {
	tpl := loadTemplate(t)
	for _, typ := range []string{"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy"} {
		for name, r := range resources(tpl, typ) {
			for _, s := range items(get(r, "Properties", "PolicyDocument", "Statement")) {
				if short(get(s, "Effect")) != "Allow" || get(s, "Principal", "Service") == nil {
					continue
				}
				c := get(s, "Condition")
				if !refs(c, "OnFailureTopic") && !refs(c, "AWS::AccountId") && get(c, "ArnEquals", "aws:SourceArn") == nil {
					t.Errorf("%s: service principal %s allowed without an aws:SourceArn/SourceAccount condition", name, short(get(s, "Principal", "Service")))
				}
			}
		}
	}
}

// The role map is padded to ten entries; entry N must be granted under HasRoleN and
// read from the same index, or a role would be granted under the wrong condition.
func TestRoleMapEntriesLineUp(t *testing.T) {
	tpl := loadTemplate(t)
	var grant *yaml.Node
	for _, s := range identityStatements(tpl) {
		if short(get(s.node, "Sid")) == "AssumeCrossAccountReaders" {
			grant = s.node
		}
	}
	if grant == nil {
		t.Fatal("HydrateRole: got no AssumeCrossAccountReaders statement")
	}
	entries := get(grant, "Resource").Content
	if len(entries) != 10 {
		t.Fatalf("AssumeCrossAccountReaders resources: got %d, want 10", len(entries))
	}
	for i, e := range entries {
		cond := "HasRoleMap"
		if i > 0 {
			cond = fmt.Sprintf("HasRole%d", i+1)
			if e.Tag != "!If" || e.Content[0].Value != cond {
				t.Errorf("entry %d: want !If [%s, ...]", i, cond)
				continue
			}
			e = e.Content[1]
		}
		if got := selectIndex(e.Content[1].Content[1].Content[1].Content[0]); got != i {
			t.Errorf("entry %d: got !Select %d of the role map, want %d", i, got, i)
		}
		if i > 0 {
			if got := selectIndex(mustGet(t, tpl, "Conditions", cond).Content[0].Content[0]); got != i {
				t.Errorf("condition %s: got !Select %d, want %d", cond, got, i)
			}
		}
	}
}

// selectIndex returns N of a "!Select [N, ...]" node, or -1.
func selectIndex(n *yaml.Node) int {
	if n == nil || n.Tag != "!Select" || len(n.Content) != 2 {
		return -1
	}
	var i int
	if _, err := fmt.Sscan(n.Content[0].Value, &i); err != nil {
		return -1
	}
	return i
}

// statementsBySid returns the identity statements with sid, in every !If branch.
func statementsBySid(tpl *yaml.Node, sid string) []statement {
	var out []statement
	for _, s := range identityStatements(tpl) {
		if short(get(s.node, "Sid")) == sid {
			out = append(out, s)
		}
	}
	return out
}

// The source streams' KMS keys are granted kms:Decrypt only, only when the parameter
// is set, and only through Kinesis and DynamoDB.
func TestSourceStreamKeysDecryptOnly(t *testing.T) {
	tpl := loadTemplate(t)
	stmts := statementsBySid(tpl, "DecryptSourceStreams")
	if len(stmts) != 1 {
		t.Fatalf("got %d DecryptSourceStreams statements, want 1 in HydrateRole", len(stmts))
	}
	s := stmts[0]
	if !strings.HasPrefix(s.where, "HydrateRole ") {
		t.Errorf("DecryptSourceStreams in %s, want HydrateRole", s.where)
	}
	if got := items(get(s.node, "Action")); len(got) != 1 || got[0].Value != "kms:Decrypt" {
		t.Errorf("DecryptSourceStreams actions: want kms:Decrypt only")
	}
	if r := get(s.node, "Resource"); r.Tag != "!Split" || !refs(r, "SourceStreamKmsKeyArns") {
		t.Errorf("DecryptSourceStreams resource: got %s, want !Split of SourceStreamKmsKeyArns", short(r))
	}
	var via []string
	for _, v := range items(get(s.node, "Condition", "StringLike", "kms:ViaService")) {
		via = append(via, v.Value)
	}
	if strings.Join(via, ",") != "kinesis.*.amazonaws.com,dynamodb.*.amazonaws.com" {
		t.Errorf("DecryptSourceStreams kms:ViaService: got %v, want Kinesis and DynamoDB", via)
	}
	if !conditionalOn(tpl, "HasSourceStreamKeys", "DecryptSourceStreams") {
		t.Error("DecryptSourceStreams: want it under !If HasSourceStreamKeys")
	}
	if got := short(mustGet(t, tpl, "Parameters", "SourceStreamKmsKeyArns", "Default")); got != "" {
		t.Errorf("SourceStreamKmsKeyArns default: got %q, want empty (no grant)", got)
	}
}

// conditionalOn reports whether the statement sid sits in an !If on cond.
func conditionalOn(tpl *yaml.Node, cond, sid string) bool {
	var found bool
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || found {
			return
		}
		if n.Tag == "!If" && len(n.Content) == 3 && n.Content[0].Value == cond && short(get(n.Content[1], "Sid")) == sid {
			found = true
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(get(tpl, "Resources"))
	return found
}

// The hydrator may list event source mappings (on "*", the action has no resource
// type) and is told this stack's inputs, so that only failures a mapping sends here
// are hydrated.
func TestHydratorChecksMappings(t *testing.T) {
	tpl := loadTemplate(t)
	stmts := statementsBySid(tpl, "CheckEventSourceMappings")
	if len(stmts) != 1 || short(get(stmts[0].node, "Action")) != "lambda:ListEventSourceMappings" || short(get(stmts[0].node, "Resource")) != "*" {
		t.Fatal("HydrateRole: want a CheckEventSourceMappings statement allowing lambda:ListEventSourceMappings on *")
	}
	pipes := statementsBySid(tpl, "CheckPipes")
	if len(pipes) != 1 || short(get(pipes[0].node, "Action")) != "pipes:DescribePipe" || !strings.Contains(short(get(pipes[0].node, "Resource")), ":pipe/") {
		t.Error("HydrateRole: want a CheckPipes statement allowing pipes:DescribePipe on this account's pipes")
	}
	vars := mustGet(t, tpl, "Resources", "HydrateFunction", "Properties", "Environment", "Variables")
	inputs := get(vars, "STREAMDLQ_INPUT_ARNS")
	for _, name := range []string{"OnFailureTopic", "OnFailureQueueArn", "OnFailureBucketName"} {
		if !refs(inputs, name) {
			t.Errorf("STREAMDLQ_INPUT_ARNS: want it to name %s", name)
		}
	}
	if !refs(get(vars, "STREAMDLQ_CHECK_MAPPINGS"), "CheckMappings") || short(mustGet(t, tpl, "Parameters", "CheckMappings", "Default")) != "true" {
		t.Error("STREAMDLQ_CHECK_MAPPINGS: want !Ref CheckMappings, on by default")
	}
}

// The role map may name a region-specific role (ACCOUNT:REGION=ROLE), as the hydrator
// reads it; the entry's role is still what sts:AssumeRole is granted on.
func TestRoleMapPatternAcceptsRegions(t *testing.T) {
	re := regexp.MustCompile(short(mustGet(t, loadTemplate(t), "Parameters", "CrossAccountRoleMap", "AllowedPattern")))
	for v, want := range map[string]bool{
		"": true,
		"444455556666=arn:aws:iam::444455556666:role/r":                                                         true,
		"444455556666:eu-west-1=arn:aws:iam::444455556666:role/r,444455556666=arn:aws:iam::444455556666:role/q": true,
		"444455556666:=arn:aws:iam::444455556666:role/r":                                                        false,
		"444455556666:EU=arn:aws:iam::444455556666:role/r":                                                      false,
	} {
		if got := re.MatchString(v); got != want {
			t.Errorf("CrossAccountRoleMap %q: got match %t, want %t", v, got, want)
		}
	}
}

// TestRedriveInvokesOnlyListedConsumers: the redrive's default target is the consumer
// function that failed, so lambda:InvokeFunction is granted on the functions listed
// in RedriveFunctionArns alone, each with and without a qualifier (a mapping on an
// alias or version names the qualified ARN); Kinesis writes only on the streams
// listed for kinesis routes.
func TestRedriveInvokesOnlyListedConsumers(t *testing.T) {
	tpl := loadTemplate(t)
	params := map[string]string{
		"RedriveFunctionArns":      "arn:aws:lambda:us-east-1:1:function:a,arn:aws:lambda:us-east-1:1:function:b",
		"RedriveKinesisStreamArns": "arn:aws:kinesis:us-east-1:1:stream/s",
	}
	want := map[string][]string{
		"lambda:InvokeFunction": {"arn:aws:lambda:us-east-1:1:function:a:*", "arn:aws:lambda:us-east-1:1:function:b:*", "arn:aws:lambda:us-east-1:1:function:a", "arn:aws:lambda:us-east-1:1:function:b"},
		"kinesis:PutRecords":    {"arn:aws:kinesis:us-east-1:1:stream/s"},
	}
	got := map[string][]string{}
	for _, s := range identityStatements(tpl) {
		if !strings.HasPrefix(s.where, "RedriveRole ") {
			continue
		}
		for _, a := range items(get(s.node, "Action")) {
			if _, ok := want[a.Value]; !ok {
				continue
			}
			for _, r := range items(get(s.node, "Resource")) {
				v, err := evaluate(r, params)
				if err != nil {
					t.Fatalf("%s: %v", s.where, err)
				}
				got[a.Value] = append(got[a.Value], v...)
			}
		}
	}
	for action, w := range want {
		if !slices.Equal(got[action], w) {
			t.Errorf("%s on %q, want %q", action, got[action], w)
		}
	}
}

// evaluate computes a resource made of !Ref (of params), !Split and !Join.
func evaluate(n *yaml.Node, params map[string]string) ([]string, error) {
	switch {
	case n.Tag == "!Ref":
		v, ok := params[n.Value]
		if !ok {
			return nil, fmt.Errorf("!Ref %s: not one of the listed parameters", n.Value)
		}
		return []string{v}, nil
	case n.Tag == "!Split" && len(n.Content) == 2:
		s, err := evaluateOne(n.Content[1], params)
		return strings.Split(s, n.Content[0].Value), err
	case n.Tag == "!Join" && len(n.Content) == 2:
		list := []*yaml.Node{n.Content[1]} // a function returning a list
		if !custom(n.Content[1]) {
			list = n.Content[1].Content
		}
		var parts []string
		for _, c := range list {
			v, err := evaluate(c, params)
			if err != nil {
				return nil, err
			}
			parts = append(parts, v...)
		}
		return []string{strings.Join(parts, n.Content[0].Value)}, nil
	case n.Kind == yaml.ScalarNode && !custom(n):
		return []string{n.Value}, nil
	}
	return nil, fmt.Errorf("cannot evaluate %s", short(n))
}

func evaluateOne(n *yaml.Node, params map[string]string) (string, error) {
	v, err := evaluate(n, params)
	if err == nil && len(v) != 1 {
		err = fmt.Errorf("%s: got %d values, want one", short(n), len(v))
	}
	if err != nil {
		return "", err
	}
	return v[0], nil
}
