package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repo is the repository root, relative to this package.
const repo = "../.."

// loadTemplate parses template.yaml into its document's mapping node.
func loadTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "template.yaml"))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse template: %v", err)
	}
	return doc.Content[0]
}

// get walks mapping keys; nil when any is missing.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// mustGet is get that fails the test on a missing key.
func mustGet(t *testing.T, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	v := get(n, keys...)
	if v == nil {
		t.Fatalf("template has no %s", strings.Join(keys, "."))
	}
	return v
}

// resources returns each resource's node by logical id, for one type or all ("").
func resources(tpl *yaml.Node, typ string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	rs := get(tpl, "Resources")
	for i := 0; rs != nil && i+1 < len(rs.Content); i += 2 {
		if typ == "" || get(rs.Content[i+1], "Type").Value == typ {
			out[rs.Content[i].Value] = rs.Content[i+1]
		}
	}
	return out
}

// short renders a scalar as CloudFormation short form ("!Ref X") or plain value.
func short(n *yaml.Node) string {
	if n == nil {
		return "<missing>"
	}
	if n.Kind == yaml.ScalarNode && custom(n) {
		return n.Tag + " " + n.Value
	}
	return n.Value
}

// custom reports a CloudFormation short-form tag; yaml.v3 gives plain nodes their
// resolved tag ("!!str", "!!seq").
func custom(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// branches expands !If nodes into their value branches (dropping AWS::NoValue), so a
// conditional statement or resource is checked in every form it can take.
func branches(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Tag == "!If" && n.Kind == yaml.SequenceNode && len(n.Content) == 3 {
		return append(branches(n.Content[1]), branches(n.Content[2])...)
	}
	if short(n) == "!Ref AWS::NoValue" {
		return nil
	}
	return []*yaml.Node{n}
}

// items returns a sequence's elements (through !If), or the node itself as a
// one-element list: IAM accepts both a string and a list for Action and Resource.
func items(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, b := range branches(n) {
		if b.Kind == yaml.SequenceNode && !custom(b) {
			for _, c := range b.Content {
				out = append(out, branches(c)...)
			}
			continue
		}
		out = append(out, b)
	}
	return out
}

// refs reports whether n or anything under it is "!Ref name" (or ${name} in a !Sub).
func refs(n *yaml.Node, name string) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!Ref" && n.Value == name || n.Tag == "!Sub" && strings.Contains(n.Value, "${"+name+"}")) {
		return true
	}
	for _, c := range n.Content {
		if refs(c, name) {
			return true
		}
	}
	return false
}
