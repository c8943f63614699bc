package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
)

// Get reads the archived failure at key.
func (a *Archive) Get(ctx context.Context, key string) (*Document, error) {
	return getDocument(ctx, a.s3, a.opts.Bucket, key)
}

// GetSpooled is Get for a document that may be long: past spoolAbove records the
// records go to a spool file in the temporary directory (Document.SpoolAbove) instead
// of memory. Close the document when done with it.
func (a *Archive) GetSpooled(ctx context.Context, key string, spoolAbove int) (*Document, error) {
	out, err := a.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &a.opts.Bucket, Key: &key}, quietChecksum)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	defer out.Body.Close()
	return decodeDocumentSpooled(out.Body, "s3://"+a.opts.Bucket+"/"+key, spoolAbove)
}

// GetForUpdate reads the archived failure at key together with the ETag of the
// version read, for a Replace that must not overwrite a newer version.
func (a *Archive) GetForUpdate(ctx context.Context, key string) (*Document, string, error) {
	return a.GetSpooledForUpdate(ctx, key, 0)
}

// GetSpooledForUpdate is GetForUpdate for a document that may be long: its records
// past spoolAbove go to a spool file, as with GetSpooled. Close the document when
// done with it.
func (a *Archive) GetSpooledForUpdate(ctx context.Context, key string, spoolAbove int) (*Document, string, error) {
	out, err := a.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &a.opts.Bucket, Key: &key}, quietChecksum)
	if err != nil {
		return nil, "", fmt.Errorf("get s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	defer out.Body.Close()
	doc, err := decodeDocumentSpooled(out.Body, "s3://"+a.opts.Bucket+"/"+key, spoolAbove)
	return doc, aws.ToString(out.ETag), err
}

// getDocument reads an archive object, or a claim-check body, at bucket/key.
func getDocument(ctx context.Context, c getObjectAPI, bucket, key string) (*Document, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}, quietChecksum)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	return decodeDocument(out.Body, "s3://"+bucket+"/"+key)
}

// quietChecksum keeps the SDK from logging, for each object written without a
// checksum (by emulators, by older writers), that it could not validate one.
func quietChecksum(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// decodeDocument reads either encoding: a gzip archive object, the same uncompressed
// (an HTTP stack that honoured Content-Encoding), or a claim-check body (one JSON
// value).
func decodeDocument(r io.Reader, what string) (*Document, error) {
	return decodeDocumentSpooled(r, what, 0)
}

// decodeDocumentSpooled is decodeDocument that spools an archive object's records
// past spoolAbove (0: never).
func decodeDocumentSpooled(r io.Reader, what string, spoolAbove int) (*Document, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	var src io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{What: what, Err: err}
		}
		defer zr.Close()
		src = zr
	}
	dec := json.NewDecoder(src)
	var head objectHeader
	if err := dec.Decode(&head); err != nil {
		return nil, &FormatError{What: what, Line: 1, Err: err}
	}
	if head.Version == nil {
		return bodyDocument(&head, what)
	}
	return readLines(dec, &head, what, spoolAbove)
}

// objectHeader is an archive object's first line; a claim-check body decodes into it
// too (Records, no "streamdlq").
type objectHeader struct {
	Version   *int            `json:"streamdlq"`
	Count     int             `json:"records"`
	Failure   json.RawMessage `json:"failure"`
	Hydration *Hydration      `json:"hydration"`
	Records   []batch.Record  `json:"Records"`
}

// linePage is how many records readLines gathers before adding them to a document.
const linePage = 500

func readLines(dec *json.Decoder, head *objectHeader, what string, spoolAbove int) (*Document, error) {
	switch {
	case *head.Version < 1 || *head.Version > FormatVersion:
		return nil, &FormatError{What: what, Line: 1, Err: fmt.Errorf("format version %d, this reader knows 1 to %d", *head.Version, FormatVersion)}
	case head.Hydration == nil:
		return nil, &FormatError{What: what, Line: 1, Err: errors.New("header has no hydration")}
	}
	doc := &Document{Failure: head.Failure, Hydration: *head.Hydration}
	page := make([]batch.Record, 0, linePage)
	if spoolAbove <= 0 && head.Count > 0 {
		page = make([]batch.Record, 0, min(head.Count, 100_000))
	}
	doc.SpoolAbove(spoolAbove, "")
	if err := decodeLines(dec, doc, page, spoolAbove > 0, what); err != nil {
		_ = doc.Close()
		return nil, err
	}
	if doc.Len() != head.Count {
		_ = doc.Close()
		return nil, &FormatError{What: what, Err: fmt.Errorf("header announces %d records, object holds %d (truncated?)", head.Count, doc.Len())}
	}
	return doc, nil
}

// decodeLines adds the record lines to doc, in pages when paged.
func decodeLines(dec *json.Decoder, doc *Document, page []batch.Record, paged bool, what string) error {
	for line := 2; ; line++ {
		var rec batch.Record
		err := dec.Decode(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return &FormatError{What: what, Line: line, Err: err}
		}
		page = append(page, rec)
		if paged && len(page) == cap(page) {
			if err := doc.Add(page); err != nil {
				return err
			}
			clear(page)
			page = page[:0]
		}
	}
	if !paged {
		if len(page) > 0 {
			doc.Records = page
		}
		return nil
	}
	return doc.Add(page)
}

// bodyDocument accepts a claim-check body: the Document JSON of an inline message.
func bodyDocument(head *objectHeader, what string) (*Document, error) {
	if head.Hydration == nil || head.Failure == nil {
		return nil, &FormatError{What: what, Err: errors.New(`neither an archive object nor a document: no "streamdlq" header, no "failure" and "hydration"`)}
	}
	return &Document{Failure: head.Failure, Records: head.Records, Hydration: *head.Hydration}, nil
}

// Filter selects archive objects by their key's partitions. Empty fields match all.
type Filter struct {
	Source string // "kinesis" or "dynamodb"
	Stream string // Kinesis stream name or DynamoDB table name
	Shard  string
	// Since and Until bound the dt partition (the failure's first arrival, UTC), by
	// day and inclusive; zero means unbounded.
	Since, Until time.Time
}

// Object is one archive object found by List.
type Object struct {
	KeyInfo
	Key          string
	Size         int64
	LastModified time.Time
}

// List yields the archive objects that match f, in key order. It lists only under the
// partitions f names, and with Source and Stream set it starts at Since and stops
// after Until instead of listing the whole stream.
func (a *Archive) List(ctx context.Context, f Filter) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		in := a.listInput(f)
		pages := s3.NewListObjectsV2Paginator(a.s3, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(Object{}, fmt.Errorf("list s3://%s/%s: %w", a.opts.Bucket, aws.ToString(in.Prefix), err))
				return
			}
			for _, o := range page.Contents {
				info, ok := ParseKey(aws.ToString(o.Key), a.opts.Prefix)
				if !ok || !f.matches(info) {
					if ok && f.pastUntil(info) {
						return
					}
					continue
				}
				obj := Object{KeyInfo: info, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)}
				if !yield(obj, nil) {
					return
				}
			}
		}
	}
}

// listInput narrows the listing to the deepest prefix the filter fixes.
func (a *Archive) listInput(f Filter) *s3.ListObjectsV2Input {
	prefix := ""
	if a.opts.Prefix != "" {
		prefix = a.opts.Prefix + "/"
	}
	in := &s3.ListObjectsV2Input{Bucket: &a.opts.Bucket}
	switch {
	case f.Source == "":
		prefix += "source="
	case f.Stream == "":
		prefix += "source=" + safeSegment(f.Source) + "/"
	default:
		prefix += "source=" + safeSegment(f.Source) + "/stream=" + safeSegment(f.Stream) + "/"
		if day(f.Since) == day(f.Until) && !f.Since.IsZero() {
			prefix += "dt=" + day(f.Since) + "/"
			if f.Shard != "" {
				prefix += safeSegment(f.Shard) + "/"
			}
		} else if !f.Since.IsZero() {
			// Keys sort by date within a stream: start just before Since's day.
			in.StartAfter = aws.String(prefix + "dt=" + day(f.Since))
		}
	}
	in.Prefix = &prefix
	return in
}

func (f Filter) matches(k KeyInfo) bool {
	d := k.Date.Format(dateLayout)
	return (f.Source == "" || k.Source == safeSegment(f.Source)) &&
		(f.Stream == "" || k.Stream == safeSegment(f.Stream)) &&
		(f.Shard == "" || k.ShardID == safeSegment(f.Shard)) &&
		(f.Since.IsZero() || d >= day(f.Since)) &&
		(f.Until.IsZero() || d <= day(f.Until))
}

// pastUntil reports that no later key of a single-stream listing can match.
func (f Filter) pastUntil(k KeyInfo) bool {
	return f.Source != "" && f.Stream != "" && !f.Until.IsZero() && k.Date.Format(dateLayout) > day(f.Until)
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}
