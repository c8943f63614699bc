package envelope

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// S3 notification shapes that name an on-failure destination object.
const (
	s3CreatedPrefix   = "ObjectCreated:" // S3 event notification eventName
	eventBridgeS3     = "aws.s3"         // EventBridge source
	eventBridgeCreate = "Object Created" // EventBridge detail-type
)

// s3Item reads an S3 event notification record. The object key arrives URL-encoded
// ("+" for space, %XX), and events.S3Object decodes it into URLDecodedKey.
func s3Item(path string, r json.RawMessage) Item {
	var rec events.S3EventRecord
	if err := json.Unmarshal(r, &rec); err != nil {
		var esc url.EscapeError
		if errors.As(err, &esc) {
			return Item{Err: bad(path+".s3.object.key", "not URL-encoded: %w", err)}
		}
		return Item{Err: prefixed(decodeError(err, "an S3 event record"), path)}
	}
	if !strings.HasPrefix(rec.EventName, s3CreatedPrefix) {
		// A removed or restored object is no new on-failure record.
		return Item{Err: bad(path+".eventName", "%.64q is not an ObjectCreated event", rec.EventName)}
	}
	return objectItem(path+".s3", rec.S3.Bucket.Name, rec.S3.Object.URLDecodedKey, rec.S3.Object.Size)
}

// parseEventBridge reads the EventBridge "Object Created" event that S3 sends when
// the bucket has EventBridge notifications on. Its key is taken as is: unlike S3
// event notifications, EventBridge events carry the key unencoded.
func parseEventBridge(payload []byte) (Input, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Input{}, decodeError(err, "an EventBridge event")
	}
	if ev.Source != eventBridgeS3 || ev.DetailType != eventBridgeCreate {
		return Input{}, bad("detail-type", "EventBridge event %.64q from %.64q is not an S3 %s event",
			ev.DetailType, ev.Source, eventBridgeCreate)
	}
	var detail struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"object"`
	}
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		it := Item{Err: prefixed(decodeError(err, "an S3 event detail"), "detail")}
		return Input{Kind: KindS3, Items: []Item{withFallbackID(it, ev.ID)}}, nil
	}
	it := objectItem("detail", detail.Bucket.Name, detail.Object.Key, detail.Object.Size)
	return Input{Kind: KindS3, Items: []Item{withFallbackID(it, ev.ID)}}, nil
}

// objectItem names an object to fetch and parse with ParseRecord. path is where the
// bucket and object fields sit, for errors.
func objectItem(path, bucket, key string, size int64) Item {
	if bucket == "" {
		return Item{Err: bad(path+".bucket.name", "missing")}
	}
	if key == "" {
		return Item{Err: bad(path+".object.key", "missing")}
	}
	id := "s3://" + bucket + "/" + key
	if size > MaxObjectSize || size < 0 {
		perr := bad(path+".object.size", "%d bytes is outside 0 to the %d-byte cap", size, MaxObjectSize)
		perr.MessageID = id
		return Item{ID: id, Err: perr}
	}
	return Item{ID: id, Object: &ObjectRef{Bucket: bucket, Key: key, Size: size}}
}
