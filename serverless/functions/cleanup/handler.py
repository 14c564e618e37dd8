"""Daily housekeeping of the Canalco buckets.

Trigger: EventBridge Scheduler once a day with
``{"source": "canalco.schedule", "type": "cleanup.daily"}``, or a manual invoke;
``{"dry_run": true}`` only counts what would be done.

1. Temporary objects: under every "bucket/prefix" of TEMP_PREFIXES (each prefix
   must end in "tmp/"), deletes the objects last modified more than
   TEMP_MAX_AGE_HOURS ago, with delete_objects batches of at most 1000 keys.
2. Audit consolidation: every day before today (in TIMEZONE) whose live
   partition ``${AUDIT_PREFIX}year=YYYY/month=MM/day=DD/`` holds objects (the
   audit function writes one per batch) is folded, with that day's archive
   object, into the one object
   ``${AUDIT_PREFIX}archive/year=YYYY/month=MM/day=DD/events.jsonl.gz``:
   JSON Lines, gzip, one line per event id, sorted by occurred_at. Then the
   folded objects are deleted. A report then reads one object per day. The
   storage layer's lifecycle moves these objects to the class cheapest for their
   size and age. rejected/ is never touched.

Both steps are idempotent: a run stopped between the write and the deletes
folds the same events again into the same object. The run stops once less than 10 s of Lambda time
remain and returns ``"complete": false``; the next run continues where this
one stopped. S3 call errors are raised (re-running is safe); keys that
delete_objects reports as not deleted are counted in ``delete_errors``.
"""

import collections
import dataclasses
import functools
import gzip
import json
import os
import types
from datetime import datetime, timedelta, timezone

import days  # shared/days.py, packaged beside this handler
import telemetry  # shared/telemetry.py, packaged beside this handler

TIME_MARGIN_MS = 10_000
DELETE_BATCH_SIZE = 1000
DAY_OBJECT = "events.jsonl.gz"


@dataclasses.dataclass(frozen=True)
class Settings:
    temp_prefixes: list  # [(bucket, prefix)]
    temp_max_age: timedelta
    audit_bucket: str
    audit_prefix: str
    kms_key_arn: str

    @classmethod
    def from_env(cls):
        return cls(
            temp_prefixes=_parse_temp_prefixes(os.environ.get("TEMP_PREFIXES", "[]")),
            temp_max_age=timedelta(hours=float(os.environ.get("TEMP_MAX_AGE_HOURS", "24"))),
            audit_bucket=os.environ.get("AUDIT_BUCKET", ""),
            audit_prefix=os.environ.get("AUDIT_PREFIX", "audit/"),
            kms_key_arn=os.environ.get("KMS_KEY_ARN", ""),
        )


def _parse_temp_prefixes(raw):
    entries = json.loads(raw or "[]")
    if not isinstance(entries, list):
        raise ValueError("TEMP_PREFIXES must be a JSON list of 'bucket/prefix'")
    prefixes = []
    for entry in entries:
        bucket, _, prefix = str(entry).partition("/")
        if not bucket or not prefix.endswith("tmp/"):
            raise ValueError(f"TEMP_PREFIXES entry {entry!r} must look like 'bucket/.../tmp/'")
        prefixes.append((bucket, prefix))
    return prefixes


@functools.cache
def _default_clients():
    import boto3

    return types.SimpleNamespace(s3=boto3.client("s3"))


def _utcnow():
    return datetime.now(timezone.utc)


class _BatchDelete:
    """Deletes keys of one bucket with delete_objects calls of at most 1000 keys."""

    def __init__(self, s3, bucket, dry_run):
        self.s3, self.bucket, self.dry_run = s3, bucket, dry_run
        self.pending, self.deleted, self.errors = [], 0, 0

    def add(self, key):
        self.pending.append(key)
        if len(self.pending) == DELETE_BATCH_SIZE:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        errors = []
        if not self.dry_run:
            response = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in self.pending], "Quiet": True}
            )
            errors = response.get("Errors", [])
        if errors:
            telemetry.log("ERROR", "keys not deleted", bucket=self.bucket, count=len(errors), first_error=errors[0].get("Code"))
        self.deleted += len(self.pending) - len(errors)
        self.errors += len(errors)
        self.pending = []


def handler(event, context, clients=None):
    s3 = (clients or _default_clients()).s3
    settings = Settings.from_env()
    dry_run = isinstance(event, dict) and event.get("dry_run") is True
    now = _utcnow()
    summary = {"dry_run": dry_run, "temp_deleted": 0, "audit_days": 0, "audit_folded": 0, "delete_errors": 0, "complete": True}

    for bucket, prefix in settings.temp_prefixes:
        deleted, errors, complete = _delete_expired_temp(s3, bucket, prefix, now - settings.temp_max_age, dry_run, context)
        summary["temp_deleted"] += deleted
        summary["delete_errors"] += errors
        if not complete:
            summary["complete"] = False
            break
    if summary["complete"] and settings.audit_bucket:
        summary["audit_days"], summary["audit_folded"], errors, summary["complete"] = _consolidate_audit(
            s3, settings, days.local_day(now), dry_run, context)
        summary["delete_errors"] += errors

    if not dry_run:
        telemetry.emit_metrics({"ObjectsCleaned": summary["temp_deleted"] + summary["audit_folded"]})
    telemetry.log("INFO", "cleanup finished", **summary)
    return summary


def _delete_expired_temp(s3, bucket, prefix, cutoff, dry_run, context):
    """Return (deleted, delete errors, complete) for one temporary prefix."""
    batch = _BatchDelete(s3, bucket, dry_run)
    complete = True
    for obj in _list_objects(s3, bucket, prefix):
        if _out_of_time(context):
            complete = False
            break
        if obj["LastModified"] < cutoff:
            batch.add(obj["Key"])
    batch.flush()
    return batch.deleted, batch.errors, complete


def _consolidate_audit(s3, settings, today, dry_run, context):
    """Return (days consolidated, objects folded, delete errors, complete) for the days before today."""
    bucket, live = settings.audit_bucket, settings.audit_prefix
    archive = live + "archive/"
    objects = collections.defaultdict(list)  # day -> its keys, archive first
    for base in (archive, live):
        for obj in _list_objects(s3, bucket, base + "year="):
            day = days.partition_day(obj["Key"][len(base):])
            if day is not None and day < today:
                objects[day].append(obj["Key"])
    batch = _BatchDelete(s3, bucket, dry_run)
    consolidated = folded = 0
    complete = True
    for day in sorted(objects):
        target = f"{archive}{days.partition(day)}{DAY_OBJECT}"
        keys = objects[day]
        if keys == [target]:
            continue  # already one object
        if _out_of_time(context):
            complete = False
            break
        if not dry_run:
            _write_day(s3, settings, target, keys)
        for key in keys:
            if key != target:
                batch.add(key)
                folded += 1
        consolidated += 1
    batch.flush()
    return consolidated, folded, batch.errors, complete


def _write_day(s3, settings, target, keys):
    """Fold the events of keys into target: one line per event id (the first read wins, and
    target, already consolidated, is read first), sorted by occurred_at."""
    events = {}
    for key in keys:
        body = s3.get_object(Bucket=settings.audit_bucket, Key=key)["Body"].read()
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        for line in filter(str.strip, body.decode("utf-8").splitlines()):
            event = json.loads(line)
            events.setdefault(event.get("id"), event)
    lines = (json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in sorted(events.values(), key=days.event_order))
    request = {
        "Bucket": settings.audit_bucket,
        "Key": target,
        "Body": gzip.compress("".join(lines).encode("utf-8"), mtime=0),
        # Not Content-Encoding: gzip, which would make HTTP clients unpack a file named .gz.
        "ContentType": "application/gzip",
    }
    if settings.kms_key_arn:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.kms_key_arn)
    s3.put_object(**request)


def _list_objects(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _out_of_time(context):
    return context is not None and context.get_remaining_time_in_millis() < TIME_MARGIN_MS

