"""Reads or writes one DLQ message with the SQS Extended Client Library for Python
(amazon-sqs-extended-client), to show that streamdlq's claim checks are what that
library expects. Run by archive's integration tests against the local AWS.

    extended_client.py receive QUEUE_URL BUCKET   prints {"body", "attributes"} as JSON
    extended_client.py send QUEUE_URL BUCKET      sends stdin as the body, offloaded to S3
"""
import json
import sys

import boto3
import sqs_extended_client  # noqa: F401  (patches boto3's Session)


def client(bucket):
    sqs = boto3.session.Session().client("sqs")
    sqs.large_payload_support = bucket
    sqs.use_legacy_attribute = False
    sqs.always_through_s3 = True
    return sqs


def main(mode, queue_url, bucket):
    sqs = client(bucket)
    if mode == "send":
        sqs.send_message(QueueUrl=queue_url, MessageBody=sys.stdin.read())
        return
    resp = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"],
                               MaxNumberOfMessages=1, WaitTimeSeconds=2)
    msgs = resp.get("Messages", [])
    if not msgs:
        sys.exit("no message received")
    json.dump({"body": msgs[0]["Body"], "attributes": sorted(msgs[0].get("MessageAttributes", {}))}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
