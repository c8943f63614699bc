package hydrate

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// A stream in another region is read with a client of that region; a role map entry
// for ACCOUNT:REGION wins over the account's entry there.
func TestReadersPerRegion(t *testing.T) {
	const (
		anyRegion = "arn:aws:iam::444455556666:role/reader"
		euRole    = "arn:aws:iam::444455556666:role/reader-eu"
	)
	roles, err := parseRoleMap("444455556666=" + anyRegion + ",444455556666:eu-west-1=" + euRole)
	if err != nil {
		t.Fatal(err)
	}
	r := newReaders(aws.Config{Region: "us-east-1"}, roles, false)
	own, eu := r.forAccountRegion("111122223333", "us-east-1"), r.forAccountRegion("111122223333", "eu-west-1")
	if own == eu {
		t.Fatal("one set of readers for two regions")
	}
	if own != r.forAccount("111122223333") {
		t.Error("the function's own region does not share the default readers")
	}
	for region, wantRole := range map[string]string{"eu-west-1": euRole, "ap-south-1": anyRegion, "": anyRegion} {
		if got := roleFor(roles, "444455556666", region); got != wantRole {
			t.Errorf("role in %q: got %s, want %s", region, got, wantRole)
		}
	}
	if r.forAccountRegion("444455556666", "eu-west-1") == r.forAccountRegion("444455556666", "ap-south-1") {
		t.Error("the regional role's readers are shared with the account-wide role's")
	}
}

func TestRegionOfClients(t *testing.T) {
	r := newReaders(aws.Config{Region: "us-east-1"}, nil, false)
	ar := r.forAccountRegion("111122223333", "eu-west-1")
	if ar.kinesis == nil || ar.dynamodb == nil || ar.mappings == nil || ar.pipes == nil || ar.summary == nil {
		t.Fatal("readers without clients")
	}
	if got := regionOf(ar.mappings); got != "eu-west-1" {
		t.Errorf("got a client of %q, want eu-west-1", got)
	}
}

func TestParseRoleMapRegions(t *testing.T) {
	for s, wantErr := range map[string]bool{
		"444455556666:eu-west-1=arn:aws:iam::444455556666:role/r": false,
		"444455556666:EU=arn:aws:iam::444455556666:role/r":        true,
		"444455556666:=arn:aws:iam::444455556666:role/r":          true,
	} {
		if _, err := parseRoleMap(s); (err != nil) != wantErr {
			t.Errorf("%s: got %v, want error %t", s, err, wantErr)
		}
	}
}

func TestLoadConfigMappingCheck(t *testing.T) {
	c, err := LoadConfig(lookupFrom(map[string]string{}), false)
	if err != nil || !c.CheckMappings || c.InputARNs != nil {
		t.Errorf("defaults: got %+v, %v; want the check on with no inputs", c, err)
	}
	c, err = LoadConfig(lookupFrom(map[string]string{
		"STREAMDLQ_CHECK_MAPPINGS": "false",
		"STREAMDLQ_INPUT_ARNS":     "arn:aws:sns:us-east-1:111122223333:t,,arn:aws:s3:::bucket",
	}), false)
	if err != nil || c.CheckMappings || len(c.InputARNs) != 2 {
		t.Errorf("got %+v, %v; want the check off and two inputs", c, err)
	}
	_, err = LoadConfig(lookupFrom(map[string]string{"STREAMDLQ_CHECK_MAPPINGS": "maybe", "STREAMDLQ_INPUT_ARNS": "topic"}), false)
	if err == nil {
		t.Error("got nil, want errors for both variables")
	}
}

func regionOf(api listMappingsAPI) string {
	if c, ok := api.(interface{ Options() lambda.Options }); ok {
		return c.Options().Region
	}
	return ""
}
