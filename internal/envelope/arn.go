package envelope

import (
	"fmt"
	"regexp"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// Stream ARNs as AWS writes them. Partition and region are checked for shape, not
// against a list, so that new regions and partitions, and the emulators' regions
// (DynamoDB Local's "ddblocal"), pass. Names follow the services' naming rules
// (Kinesis stream 1-128, DynamoDB table 3-255 characters of [A-Za-z0-9_.-]).
var (
	kinesisARN = regexp.MustCompile(
		`^arn:aws(?:-[a-z]+)*:kinesis:([a-z]{2,}(?:-[a-z0-9]+)*):([0-9]{12}):stream/([A-Za-z0-9_.-]{1,128})$`)
	dynamoDBARN = regexp.MustCompile(
		`^arn:aws(?:-[a-z]+)*:dynamodb:([a-z]{2,}(?:-[a-z0-9]+)*):([0-9]{12}):table/([A-Za-z0-9_.-]{3,255})/stream/([A-Za-z0-9:._-]{1,64})$`)
)

// maxARN bounds what is handed to the regexps; AWS ARNs stay well below it.
const maxARN = 1024

// streamARN is what a stream ARN tells us.
type streamARN struct {
	source          batch.Source
	region, account string
	name            string // Kinesis stream name or DynamoDB table name
}

// parseStreamARN accepts a Kinesis stream ARN or a DynamoDB stream ARN (not a table
// ARN: the stream label is what GetShardIterator needs).
func parseStreamARN(s string) (streamARN, error) {
	if len(s) <= maxARN {
		if m := kinesisARN.FindStringSubmatch(s); m != nil {
			return streamARN{source: batch.SourceKinesis, region: m[1], account: m[2], name: m[3]}, nil
		}
		if m := dynamoDBARN.FindStringSubmatch(s); m != nil {
			return streamARN{source: batch.SourceDynamoDB, region: m[1], account: m[2], name: m[3]}, nil
		}
	}
	return streamARN{}, fmt.Errorf("not a Kinesis or DynamoDB stream ARN: %.200q", s)
}
