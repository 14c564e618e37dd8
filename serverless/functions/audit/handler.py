"""Persist Canalco audit events from SQS to S3 as JSON lines.

Trigger: SQS (batch, ReportBatchItemFailures). Each message body is one audit
event ``{"id", "occurred_at" (ISO-8601), "action", "actor", "entity",
"entity_id", "details"}``; id, occurred_at and action are required.

Valid events are grouped by the UTC date of their own occurred_at and written
as one object per day per invocation:
    s3://$AUDIT_BUCKET/${AUDIT_PREFIX}year=YYYY/month=MM/day=DD/<aws_request_id>.jsonl
A message that can never become a valid event (bad JSON, missing field,
unparseable date) is written, with the reason and its raw body, to
    ${AUDIT_PREFIX}rejected/year=YYYY/month=MM/day=DD/<aws_request_id>.jsonl
(dated by receipt) and acknowledged, so nothing is lost and nothing loops.
If the PutObject of one object fails, exactly the messages of that object are
returned in batchItemFailures: SQS redelivers them, then moves them to the DLQ.
"""

import collections
import functools
import json
import os
import types
import uuid
from datetime import datetime, timezone

import telemetry  # shared/telemetry.py, packaged beside this handler

REQUIRED_FIELDS = ("id", "occurred_at", "action")


class InvalidEvent(ValueError):
    """A message body that is not a valid audit event."""


@functools.cache
def _default_clients():
    import boto3

    return types.SimpleNamespace(s3=boto3.client("s3"))


def _utcnow():
    return datetime.now(timezone.utc)


def handler(event, context, clients=None):
    s3 = (clients or _default_clients()).s3
    bucket = os.environ["AUDIT_BUCKET"]
    prefix = os.environ.get("AUDIT_PREFIX", "audit/")
    object_name = f"{getattr(context, 'aws_request_id', None) or uuid.uuid4()}.jsonl"
    objects = _group_into_objects(event.get("Records", []), prefix, object_name)

    failures, written = [], 0
    for key, entries in objects.items():
        try:
            _put_lines(s3, bucket, key, [line for _, line in entries])
        except Exception as exc:  # any S3 error: let SQS redeliver exactly these messages
            telemetry.log("ERROR", "audit object not written", key=key, messages=len(entries), error=f"{type(exc).__name__}: {exc}")
            failures.extend(message_id for message_id, _ in entries)
            continue
        if not key.startswith(f"{prefix}rejected/"):
            written += len(entries)

    telemetry.emit_metrics({"AuditEventsWritten": written})
    telemetry.log("INFO", "audit batch done", written=written, objects=len(objects), failures=len(failures))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _group_into_objects(records, prefix, object_name):
    """Map each target S3 key to its [(message_id, JSON line)]: one key per event day, plus rejected/."""
    received_at = _utcnow()
    objects = collections.defaultdict(list)
    for record in records:
        try:
            line, day = _parse(record.get("body"))
            key = f"{prefix}{_partition(day)}{object_name}"
        except InvalidEvent as exc:
            telemetry.log("WARNING", "audit message rejected", message_id=record["messageId"], reason=str(exc))
            line = {
                "message_id": record["messageId"],
                "reason": str(exc),
                "body": record.get("body"),
                "received_at": received_at.isoformat(),
            }
            key = f"{prefix}rejected/{_partition(received_at.date())}{object_name}"
        objects[key].append((record["messageId"], json.dumps(line, ensure_ascii=False, separators=(",", ":"))))
    return objects


def _parse(body):
    """Return (event, UTC date of occurred_at) or raise InvalidEvent."""
    try:
        audit_event = json.loads(body)
    except (TypeError, ValueError):
        raise InvalidEvent("body is not valid JSON") from None
    if not isinstance(audit_event, dict):
        raise InvalidEvent("body is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(audit_event.get(f), str) or not audit_event[f].strip()]
    if missing:
        raise InvalidEvent("missing or empty field(s): " + ", ".join(missing))
    try:
        occurred_at = datetime.fromisoformat(audit_event["occurred_at"])
    except ValueError:
        raise InvalidEvent("occurred_at is not an ISO-8601 date-time") from None
    if occurred_at.tzinfo is not None:
        occurred_at = occurred_at.astimezone(timezone.utc)
    return audit_event, occurred_at.date()


def _partition(day):
    return f"year={day:%Y}/month={day:%m}/day={day:%d}/"


def _put_lines(s3, bucket, key, lines):
    request = {
        "Bucket": bucket,
        "Key": key,
        "Body": ("\n".join(lines) + "\n").encode("utf-8"),
        "ContentType": "application/x-ndjson",
    }
    if os.environ.get("KMS_KEY_ARN"):
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=os.environ["KMS_KEY_ARN"])
    s3.put_object(**request)

