package clock

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// serviceThrottleCodes are the "slow down" codes of the services streamdlq calls that
// the SDK's retryer does not count as throttles: KMS throttling an encrypted resource
// as Kinesis, DynamoDB Streams and Lambda report it (KMSThrottlingException), as SQS
// reports it (KmsThrottled in the JSON protocol, KMS.ThrottlingException in the query
// protocol), and Lambda's per-function throttles with a reason suffix.
var serviceThrottleCodes = map[string]struct{}{
	"KMSThrottlingException":             {},
	"KmsThrottled":                       {},
	"KMS.ThrottlingException":            {},
	"KMSAccessDeniedException.Throttled": {},
	"EFSIOException.Throttled":           {},
}

// throttles is the SDK's own throttle check (retry.DefaultThrottles, the codes in
// retry.DefaultThrottleErrorCodes), the services' codes, and HTTP 429 whatever the
// code (Lambda's Invoke answers 429 TooManyRequestsException).
var throttles = append(retry.IsErrorThrottles{
	retry.ThrottleErrorCode{Codes: serviceThrottleCodes},
	retry.IsErrorThrottleFunc(tooManyRequests),
}, retry.DefaultThrottles...)

func tooManyRequests(err error) aws.Ternary {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

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
