"""Daily housekeeping of the Canalco buckets.

Trigger: EventBridge Scheduler once a day with
``{"source": "canalco.schedule", "type": "cleanup.daily"}``, or a manual invoke;
``{"dry_run": true}`` only counts what would be done.

1. Temporary objects: under every "bucket/prefix" of TEMP_PREFIXES (each prefix
   must end in "tmp/"), deletes the objects last modified more than
   TEMP_MAX_AGE_HOURS ago, with delete_objects batches of at most 1000 keys.
2. Audit archive: every object of a partition
   ``${AUDIT_PREFIX}year=YYYY/month=MM/day=DD/`` older than
   AUDIT_ARCHIVE_AFTER_DAYS is copied to the same key under
   ``${AUDIT_PREFIX}archive/`` in storage class GLACIER_IR, then the original
   is deleted. Only ``year=`` keys are listed, so archive/ and rejected/ are
   never touched.

Both steps are idempotent. The run stops once less than 10 s of Lambda time
remain and returns ``"complete": false``; the next run continues where this
one stopped. S3 call errors are raised (re-running is safe); keys that
delete_objects reports as not deleted are counted in ``delete_errors``.
"""

import dataclasses
import functools
import json
import os
import re
import types
from datetime import date, datetime, timedelta, timezone

import telemetry  # shared/telemetry.py, packaged beside this handler

TIME_MARGIN_MS = 10_000
DELETE_BATCH_SIZE = 1000
_PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/")


@dataclasses.dataclass(frozen=True)
class Settings:
    temp_prefixes: list  # [(bucket, prefix)]
    temp_max_age: timedelta
    audit_bucket: str
    audit_prefix: str
    archive_after: timedelta
    kms_key_arn: str

    @classmethod
    def from_env(cls):
        return cls(
            temp_prefixes=_parse_temp_prefixes(os.environ.get("TEMP_PREFIXES", "[]")),
            temp_max_age=timedelta(hours=float(os.environ.get("TEMP_MAX_AGE_HOURS", "24"))),
            audit_bucket=os.environ.get("AUDIT_BUCKET", ""),
            audit_prefix=os.environ.get("AUDIT_PREFIX", "audit/"),
            archive_after=timedelta(days=int(os.environ.get("AUDIT_ARCHIVE_AFTER_DAYS", "90"))),
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
    summary = {"dry_run": dry_run, "temp_deleted": 0, "audit_archived": 0, "delete_errors": 0, "complete": True}

    for bucket, prefix in settings.temp_prefixes:
        deleted, errors, complete = _delete_expired_temp(s3, bucket, prefix, now - settings.temp_max_age, dry_run, context)
        summary["temp_deleted"] += deleted
        summary["delete_errors"] += errors
        if not complete:
            summary["complete"] = False
            break
    if summary["complete"] and settings.audit_bucket:
        cutoff = (now - settings.archive_after).date()
        archived, errors, summary["complete"] = _archive_audit(s3, settings, cutoff, dry_run, context)
        summary["audit_archived"] += archived
        summary["delete_errors"] += errors

    if not dry_run:
        telemetry.emit_metrics({"ObjectsCleaned": summary["temp_deleted"] + summary["audit_archived"]})
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


def _archive_audit(s3, settings, cutoff, dry_run, context):
    """Return (archived, delete errors, complete) for the audit partitions before cutoff."""
    bucket, prefix = settings.audit_bucket, settings.audit_prefix
    batch = _BatchDelete(s3, bucket, dry_run)
    complete = True
    for obj in _list_objects(s3, bucket, prefix + "year="):
        if _out_of_time(context):
            complete = False
            break
        day = _partition_date(obj["Key"][len(prefix):])
        if day is None:
            continue
        if day >= cutoff:
            break  # keys sort by partition date: every later key is newer
        if not dry_run:
            s3.copy_object(**_archive_copy_request(bucket, prefix, obj["Key"], settings.kms_key_arn))
        batch.add(obj["Key"])
    batch.flush()
    return batch.deleted, batch.errors, complete


def _archive_copy_request(bucket, prefix, key, kms_key_arn):
    request = {
        "Bucket": bucket,
        "Key": f"{prefix}archive/{key[len(prefix):]}",
        "CopySource": {"Bucket": bucket, "Key": key},
        "StorageClass": "GLACIER_IR",
        "MetadataDirective": "COPY",
    }
    if kms_key_arn:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_arn)
    return request


def _partition_date(relative_key):
    match = _PARTITION.match(relative_key)
    if match is None:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def _list_objects(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _out_of_time(context):
    return context is not None and context.get_remaining_time_in_millis() < TIME_MARGIN_MS

