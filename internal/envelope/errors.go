package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ParseError says why an input, or one unit of it, is unusable. It is permanent:
// the same bytes fail the same way on every retry. Lambda reports the type name
// (ParseError) as errorType, so operators see at once that the input, not AWS, is at
// fault.
type ParseError struct {
	// MessageID is the unit's Item.ID (SNS MessageId, SQS messageId, s3://bucket/key,
	// the failed invocation's requestId, or "direct"); empty when the whole payload
	// is unusable.
	MessageID string
	// Field is the JSON path of the offending field, e.g.
	// "KinesisBatchInfo.startSequenceNumber"; empty when the document as a whole is
	// at fault (not JSON, no recognizable shape).
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("envelope: ")
	if e.MessageID != "" {
		// IDs can come from the input itself (requestId); keep a hostile one short.
		fmt.Fprintf(&b, "message %.128s: ", e.MessageID)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %.128s: ", e.Field)
	}
	if e.Err == nil {
		b.WriteString("unusable input")
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// bad builds a ParseError for a field; the caller that knows the unit fills MessageID.
func bad(field, format string, args ...any) *ParseError {
	return &ParseError{Field: field, Err: fmt.Errorf(format, args...)}
}

// decodeError turns an encoding/json error into a ParseError naming the field that
// had the wrong type. what names the expected document ("an on-failure record").
func decodeError(err error, what string) *ParseError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return bad(te.Field, "wrong JSON type %s", te.Value)
	case errors.As(err, &te):
		return bad("", "not %s: JSON %s", what, te.Value)
	case errors.As(err, &se):
		return bad("", "not JSON: %w", err)
	}
	return bad("", "not %s: %w", what, err)
}

// prefixed returns e with its Field placed under prefix (a JSON path).
func prefixed(e *ParseError, prefix string) *ParseError {
	switch {
	case prefix == "":
	case e.Field == "":
		e.Field = prefix
	default:
		e.Field = prefix + "." + e.Field
	}
	return e
}
