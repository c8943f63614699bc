package clock

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// serviceThrottleCodes are the "slow down" codes of the services streamdlq calls that
// the SDK's retryer does not count as throttles: Kinesis, DynamoDB Streams, SQS and
// Lambda answer KMSThrottlingException when KMS throttles them on an encrypted
// resource.
var serviceThrottleCodes = map[string]struct{}{
	"KMSThrottlingException": {},
}

// throttles is the SDK's own throttle check (retry.DefaultThrottles, the codes in
// retry.DefaultThrottleErrorCodes) plus the services' codes.
var throttles = append(retry.IsErrorThrottles{retry.ThrottleErrorCode{Codes: serviceThrottleCodes}}, retry.DefaultThrottles...)

// Throttled reports whether err asks the caller to slow down.
func Throttled(err error) bool {
	return err != nil && throttles.IsErrorThrottle(err) == aws.TrueTernary
}

// ThrottleCode reports whether an AWS error code (a whole call's, or one entry's of a
// batch call) asks the caller to slow down.
func ThrottleCode(code string) bool { return code != "" && Throttled(codeError(code)) }

// codeError carries a bare error code, as batch APIs report per entry.
type codeError string

func (e codeError) Error() string     { return string(e) }
func (e codeError) ErrorCode() string { return string(e) }

var _ interface{ ErrorCode() string } = codeError("")
