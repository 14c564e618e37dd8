"""Persist Canalco audit events from SQS to S3 as JSON lines.

Trigger: SQS (batch, ReportBatchItemFailures). Each message body is one audit
event ``{"id", "occurred_at" (ISO-8601), "action", "actor", "entity",
"entity_id", "details"}``; id, occurred_at and action are required.

Valid events are grouped by the day of their own occurred_at in the users' time
zone (TIMEZONE, canalco:timezone; a time without an offset is taken as local) and written as
one object per day per batch, named after the event ids it holds:
    s3://$AUDIT_BUCKET/${AUDIT_PREFIX}year=YYYY/month=MM/day=DD/<sha256 of the ids>.jsonl
A batch SQS delivers again writes the same keys again (an overwrite, not a copy),
an id repeated within a batch is written once, and an event that comes back in a
different batch is removed when the clean-up function consolidates the day into
one object with one line per event id (``${AUDIT_PREFIX}archive/``): the store
keeps each event once.
A message that can never become a valid event (bad JSON, missing field,
unparseable date) is written, with the reason and its raw body, to
    ${AUDIT_PREFIX}rejected/year=YYYY/month=MM/day=DD/<aws_request_id>.jsonl
(dated by receipt) and acknowledged, so nothing is lost and nothing loops.
If the PutObject of one object fails, exactly the messages of that object are
returned in batchItemFailures: SQS redelivers them, then moves them to the DLQ.
"""

import collections
import functools
import hashlib
import json
import os
import types
import uuid
from datetime import datetime, timezone

import days  # shared/days.py, packaged beside this handler
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
    request_object = f"{getattr(context, 'aws_request_id', None) or uuid.uuid4()}.jsonl"
    objects = _group_into_objects(event.get("Records", []), prefix, request_object)

    failures, written = [], 0
    for key, entries in objects.items():
        try:
            _put_lines(s3, bucket, key, [line for _, line in entries if line is not None])
        except Exception as exc:  # any S3 error: let SQS redeliver exactly these messages
            telemetry.log("ERROR", "audit object not written", key=key, messages=len(entries), error=f"{type(exc).__name__}: {exc}")
            failures.extend(message_id for message_id, _ in entries)
            continue
        if not key.startswith(f"{prefix}rejected/"):
            written += sum(line is not None for _, line in entries)

    telemetry.emit_metrics({"AuditEventsWritten": written})
    telemetry.log("INFO", "audit batch done", written=written, objects=len(objects), failures=len(failures))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _group_into_objects(records, prefix, request_object):
    """Map each target S3 key to its [(message_id, JSON line)]: one key per event day, named
    after its event ids, plus rejected/ (named after the invocation)."""
    received_at = _utcnow()
    events = collections.defaultdict(dict)  # day -> event id -> (message_id, line)
    objects = collections.defaultdict(list)
    for record in records:
        try:
            audit_event, day = _parse(record.get("body"))
        except InvalidEvent as exc:
            telemetry.log("WARNING", "audit message rejected", message_id=record["messageId"], reason=str(exc))
            line = {
                "message_id": record["messageId"],
                "reason": str(exc),
                "body": record.get("body"),
                "received_at": received_at.isoformat(),
            }
            key = f"{prefix}rejected/{days.partition(received_at.date())}{request_object}"
            objects[key].append((record["messageId"], _line(line)))
            continue
        # The same event twice in a batch: one line, and both messages succeed or fail with it.
        events[day].setdefault(audit_event["id"], []).append((record["messageId"], _line(audit_event)))
    for day, by_id in events.items():
        digest = hashlib.sha256("\n".join(sorted(by_id)).encode("utf-8")).hexdigest()
        key = f"{prefix}{days.partition(day)}{digest}.jsonl"
        for event_id in sorted(by_id):
            (first_id, line), *repeats = by_id[event_id]
            objects[key].append((first_id, line))
            objects[key].extend((message_id, None) for message_id, _ in repeats)
    return objects


def _line(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse(body):
    """Return (event, the users' day of occurred_at) or raise InvalidEvent."""
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
        occurred_at = days.instant(audit_event["occurred_at"])
    except ValueError:
        raise InvalidEvent("occurred_at is not an ISO-8601 date-time") from None
    return audit_event, days.local_day(occurred_at)


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

