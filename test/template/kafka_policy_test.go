package template

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// onlyStatement returns the one identity statement with sid, failing when there is not
// exactly one or it is not in role.
func onlyStatement(t *testing.T, tpl *yaml.Node, role, sid string) *yaml.Node {
	t.Helper()
	stmts := statementsBySid(tpl, sid)
	if len(stmts) != 1 {
		t.Fatalf("got %d %s statements, want 1", len(stmts), sid)
	}
	if !strings.HasPrefix(stmts[0].where, role+" ") {
		t.Errorf("%s in %s, want %s", sid, stmts[0].where, role)
	}
	return stmts[0].node
}

func actionsOf(s *yaml.Node) []string {
	var out []string
	for _, a := range items(get(s, "Action")) {
		out = append(out, a.Value)
	}
	return out
}

// resourcesOf evaluates a statement's Resource (n: the Resource, or one branch of an
// !If on it) with params.
func resourcesOf(t *testing.T, n *yaml.Node, params map[string]string) []string {
	t.Helper()
	got, err := evaluate(n, params)
	if err != nil {
		t.Fatalf("evaluate %s: %v", short(n), err)
	}
	return got
}

// The hydrator's MSK IAM grant is the allowlist's clusters and their topics, read-only,
// with no consumer-group action (the reader assigns partitions directly), and only
// when KafkaAuth is iam. The brokers of a cluster come from kafka:GetBootstrapBrokers
// on the same clusters.
func TestHydratorMskIamScopedToAllowedClusters(t *testing.T) {
	tpl := loadTemplate(t)
	allowed := map[string]string{"AllowedStreams": "arn:aws:kinesis:us-east-1:111122223333:stream/s," +
		"arn:aws:kafka:us-east-1:111122223333:cluster/orders/abcd-1,arn:aws:kafka:eu-west-1:111122223333:cluster/audit/*"}

	read := onlyStatement(t, tpl, "HydrateRole", "ReadMskTopics")
	if got, want := actionsOf(read), []string{"kafka-cluster:Connect", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}; !slices.Equal(got, want) {
		t.Errorf("ReadMskTopics actions: got %v, want %v", got, want)
	}
	if c := mustGet(t, tpl, "Conditions", "KafkaIam"); !conditionalOn(tpl, "KafkaIam", "ReadMskTopics") || c.Tag != "!Equals" || !refs(c, "KafkaAuth") {
		t.Error("ReadMskTopics: want it under !If KafkaIam (KafkaAuth = iam)")
	}
	res := get(read, "Resource")
	if res.Tag != "!If" || res.Content[0].Value != "HasAllowlist" {
		t.Fatalf("ReadMskTopics resource: got %s, want !If HasAllowlist", short(res))
	}
	got := resourcesOf(t, res.Content[1], allowed)
	for _, want := range []string{
		"arn:aws:kafka:us-east-1:111122223333:cluster/orders/abcd-1", "arn:aws:kafka:us-east-1:111122223333:topic/orders/abcd-1/*",
		"arn:aws:kafka:eu-west-1:111122223333:cluster/audit/*", "arn:aws:kafka:eu-west-1:111122223333:topic/audit/*/*",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("ReadMskTopics with AllowedStreams %s: got %q, want it to hold %s", allowed["AllowedStreams"], got, want)
		}
	}
	for _, r := range got {
		if strings.Contains(r, ":group/") || strings.Contains(r, "kafka") && !strings.Contains(r, ":cluster/") && !strings.Contains(r, ":topic/") {
			t.Errorf("ReadMskTopics resource %s: want only clusters and topics", r)
		}
	}
	for _, b := range items(res.Content[2]) {
		if !refs(b, "AWS::AccountId") || !refs(b, "AWS::Region") {
			t.Errorf("ReadMskTopics without an allowlist: got %s, want this account's and region's clusters", short(b))
		}
	}

	brokers := onlyStatement(t, tpl, "HydrateRole", "FindMskBrokers")
	if got := actionsOf(brokers); !slices.Equal(got, []string{"kafka:GetBootstrapBrokers"}) {
		t.Errorf("FindMskBrokers actions: got %v, want kafka:GetBootstrapBrokers only", got)
	}
	if r := get(brokers, "Resource"); r.Tag != "!If" || !slices.Equal(resourcesOf(t, r.Content[1], allowed), strings.Split(allowed["AllowedStreams"], ",")) {
		t.Errorf("FindMskBrokers resource: got %s, want the AllowedStreams entries", short(r))
	}
}

// The redrive may produce to the clusters of RedriveKafkaClusterArns over MSK IAM:
// connect and write idempotently on each cluster, describe and write its topics.
func TestRedriveMskIamScopedToListedClusters(t *testing.T) {
	tpl := loadTemplate(t)
	s := onlyStatement(t, tpl, "RedriveRole", "RedriveToMsk")
	want := []string{"kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently", "kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"}
	if got := actionsOf(s); !slices.Equal(got, want) {
		t.Errorf("RedriveToMsk actions: got %v, want %v", got, want)
	}
	if !conditionalOn(tpl, "RedriveToMskIam", "RedriveToMsk") || !refs(mustGet(t, tpl, "Conditions", "RedriveToMskIam"), "RedriveKafkaClusterArns") {
		t.Error("RedriveToMsk: want it under !If RedriveToMskIam (KafkaAuth iam and RedriveKafkaClusterArns set)")
	}
	params := map[string]string{"RedriveKafkaClusterArns": "arn:aws:kafka:us-east-1:1:cluster/a/u-1,arn:aws:kafka:us-east-1:1:cluster/b/u-2"}
	got := resourcesOf(t, get(s, "Resource"), params)
	wantRes := []string{"arn:aws:kafka:us-east-1:1:cluster/a/u-1", "arn:aws:kafka:us-east-1:1:cluster/b/u-2",
		"arn:aws:kafka:us-east-1:1:topic/a/u-1/*", "arn:aws:kafka:us-east-1:1:topic/b/u-2/*"}
	if !slices.Equal(got, wantRes) {
		t.Errorf("RedriveToMsk resources: got %q, want %q", got, wantRes)
	}
	if got := short(mustGet(t, tpl, "Parameters", "RedriveKafkaClusterArns", "Default")); got != "" {
		t.Errorf("RedriveKafkaClusterArns default: got %q, want empty (no grant)", got)
	}
}

// Each function joins a VPC only when both its subnets and security groups are given,
// and only then may Lambda manage its network interfaces with its role: the hydrator
// to read from Kafka brokers inside a VPC, the redrive to produce to them.
func TestFunctionsVpcOptional(t *testing.T) {
	tpl := loadTemplate(t)
	cases := map[string]struct {
		function, role, cond, subnets, groups string
		rules, sids                           []string
	}{
		"hydrator": {"HydrateFunction", "HydrateRole", "HydrateInVpc", "HydrateSubnetIds", "HydrateSecurityGroupIds",
			[]string{"HydrateVpcComplete", "HydrateSecurityGroupsNeedSubnets"}, []string{"ManageVpcNetworkInterfaces", "DescribeVpcNetworkInterfaces"}},
		"redrive": {"RedriveFunction", "RedriveRole", "RedriveInVpc", "RedriveSubnetIds", "RedriveSecurityGroupIds",
			[]string{"RedriveVpcComplete", "RedriveSecurityGroupsNeedSubnets"}, []string{"ManageRedriveVpcNetworkInterfaces", "DescribeRedriveVpcNetworkInterfaces"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			vpc := mustGet(t, tpl, "Resources", tc.function, "Properties", "VpcConfig")
			if vpc.Tag != "!If" || vpc.Content[0].Value != tc.cond || short(vpc.Content[2]) != "!Ref AWS::NoValue" {
				t.Fatalf("%s VpcConfig: got %s, want !If [%s, ..., !Ref AWS::NoValue]", tc.function, short(vpc), tc.cond)
			}
			params := map[string]string{tc.subnets: "subnet-1,subnet-2", tc.groups: "sg-1"}
			for key, want := range map[string][]string{"SubnetIds": {"subnet-1", "subnet-2"}, "SecurityGroupIds": {"sg-1"}} {
				if got := resourcesOf(t, get(vpc.Content[1], key), params); !slices.Equal(got, want) {
					t.Errorf("VpcConfig %s: got %q, want %q", key, got, want)
				}
			}
			cond := mustGet(t, tpl, "Conditions", tc.cond)
			if !refs(cond, tc.subnets) || !refs(cond, tc.groups) {
				t.Errorf("%s: want it to need both %s and %s", tc.cond, tc.subnets, tc.groups)
			}
			for _, rule := range tc.rules {
				mustGet(t, tpl, "Rules", rule, "Assertions")
			}
			for _, sid := range tc.sids {
				onlyStatement(t, tpl, tc.role, sid)
				if !conditionalOn(tpl, tc.cond, sid) {
					t.Errorf("%s: want it under !If %s", sid, tc.cond)
				}
			}
			for _, p := range []string{tc.subnets, tc.groups} {
				if got := short(mustGet(t, tpl, "Parameters", p, "Default")); got != "" {
					t.Errorf("%s default: got %q, want empty (no VPC)", p, got)
				}
			}
		})
	}
}
