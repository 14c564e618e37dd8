"""Build Canalco CSV reports on request and e-mail a download link.

Triggers:
  * SQS (batch, ReportBatchItemFailures): every body is a request
    ``{"report": "requisitions"|"orders"|"audit", "from": "YYYY-MM-DD",
    "to": "YYYY-MM-DD", "requested_by": "user@x.co", "format": "csv"}``.
  * Direct invoke with the same object (no "Records"): returns the result.

Rows come from JSON-lines day partitions ``year=YYYY/month=MM/day=DD/*.jsonl``:
"audit" reads ``${AUDIT_PREFIX}`` and ``${AUDIT_PREFIX}archive/`` in
AUDIT_BUCKET; "requisitions" and "orders" read the exports the backend writes
to ``${EXPORTS_PREFIX}<report>/`` in REPORTS_BUCKET (the database stays in its
private subnet; this function runs outside the VPC).

The CSV goes to ``s3://$REPORTS_BUCKET/${REPORTS_PREFIX}<report>/<from>_<to>/<uuid>.csv``;
a presigned GET link valid LINK_TTL_SECONDS is e-mailed to requested_by with
the SES template ``${TEMPLATE_PREFIX}reporte-programado``.

Failure contract: an invalid request is dropped (SQS) or answered
``{"ok": false, "error": ...}`` (direct invoke); any other error reports only
that SQS message in batchItemFailures, and is raised on a direct invoke.
"""

import csv
import dataclasses
import functools
import io
import json
import math
import os
import re
import types
import uuid
from datetime import date, timedelta

import telemetry  # shared/telemetry.py, packaged beside this handler

REPORTS = ("requisitions", "orders", "audit")
MAX_RANGE_DAYS = 366
MAX_LINK_TTL_SECONDS = 604800  # SigV4 presigned URLs last at most 7 days
TEMPLATE = "reporte-programado"
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class InvalidRequest(ValueError):
    """A report request that can never succeed: dropped, never retried."""


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    report: str
    start: date
    end: date
    requested_by: str


@dataclasses.dataclass(frozen=True)
class Settings:
    reports_bucket: str
    reports_prefix: str
    exports_prefix: str
    audit_bucket: str
    audit_prefix: str
    kms_key_arn: str
    link_ttl_seconds: int
    sender: str
    configuration_set: str
    template_prefix: str

    @classmethod
    def from_env(cls):
        link_ttl = int(os.environ.get("LINK_TTL_SECONDS", "86400"))
        if link_ttl <= 0:
            raise ValueError("LINK_TTL_SECONDS must be positive")
        return cls(
            reports_bucket=os.environ["REPORTS_BUCKET"],
            reports_prefix=os.environ.get("REPORTS_PREFIX", "reports/"),
            exports_prefix=os.environ.get("EXPORTS_PREFIX", "exports/"),
            audit_bucket=os.environ.get("AUDIT_BUCKET", ""),
            audit_prefix=os.environ.get("AUDIT_PREFIX", "audit/"),
            kms_key_arn=os.environ.get("KMS_KEY_ARN", ""),
            link_ttl_seconds=min(link_ttl, MAX_LINK_TTL_SECONDS),
            sender=os.environ["SENDER"],
            configuration_set=os.environ.get("CONFIGURATION_SET", ""),
            template_prefix=os.environ.get("TEMPLATE_PREFIX", ""),
        )


@functools.cache
def _default_clients():
    import boto3
    from botocore.config import Config

    return types.SimpleNamespace(
        s3=boto3.client("s3", config=Config(signature_version="s3v4")), sesv2=boto3.client("sesv2")
    )


def handler(event, context, clients=None):
    clients = clients or _default_clients()
    settings = Settings.from_env()
    if isinstance(event, dict) and "Records" in event:
        return _handle_batch(event["Records"], settings, clients)
    return _handle_direct(event, settings, clients)


def _handle_direct(event, settings, clients):
    try:
        request = _parse_request(event)
    except InvalidRequest as exc:
        telemetry.log("WARNING", "invalid report request", error=str(exc))
        return {"ok": False, "error": str(exc)}
    result = _generate(request, settings, clients)
    telemetry.emit_metrics({"ReportsGenerated": 1, "EmailsSent": 1})
    return result


def _handle_batch(records, settings, clients):
    failures, generated = [], 0
    for record in records:
        message_id = record["messageId"]
        try:
            request = _parse_request(record.get("body"))
        except InvalidRequest as exc:
            telemetry.log("WARNING", "invalid report request dropped", message_id=message_id, error=str(exc))
            continue
        try:
            _generate(request, settings, clients)
        except Exception as exc:  # S3/SES or configuration error: SQS redelivers only this message
            telemetry.log("ERROR", "report failed, will be retried", message_id=message_id, error=f"{type(exc).__name__}: {exc}")
            failures.append({"itemIdentifier": message_id})
            continue
        generated += 1
    telemetry.emit_metrics({"ReportsGenerated": generated, "EmailsSent": generated})
    return {"batchItemFailures": failures}


def _parse_request(raw):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidRequest("request is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("request is not a JSON object")
    if raw.get("report") not in REPORTS:
        raise InvalidRequest(f"unknown report {raw.get('report')!r}, expected one of {', '.join(REPORTS)}")
    start, end = _parse_date(raw, "from"), _parse_date(raw, "to")
    if start > end:
        raise InvalidRequest("'from' is after 'to'")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequest(f"range is longer than {MAX_RANGE_DAYS} days")
    requested_by = raw.get("requested_by")
    if not isinstance(requested_by, str) or len(requested_by) > 254 or not _EMAIL.fullmatch(requested_by):
        raise InvalidRequest("'requested_by' is not a valid e-mail address")
    if raw.get("format", "csv") != "csv":
        raise InvalidRequest("only format 'csv' is supported")
    return ReportRequest(raw["report"], start, end, requested_by)


def _parse_date(raw, field):
    value = raw.get(field)
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidRequest(f"'{field}' is not a YYYY-MM-DD date")


def _generate(request, settings, clients):
    rows = _read_rows(clients.s3, _sources(request, settings), request.start, request.end)
    key = f"{settings.reports_prefix}{request.report}/{request.start}_{request.end}/{uuid.uuid4()}.csv"
    _put_csv(clients.s3, settings, key, _to_csv(rows), f"{request.report}_{request.start}_{request.end}.csv")
    url = clients.s3.generate_presigned_url(
        "get_object", Params={"Bucket": settings.reports_bucket, "Key": key}, ExpiresIn=settings.link_ttl_seconds
    )
    _email_link(clients.sesv2, settings, request, len(rows), url)
    telemetry.log("INFO", "report generated", report=request.report, rows=len(rows), key=key, requested_by=request.requested_by)
    return {
        "ok": True,
        "report": request.report,
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "rows": len(rows),
        "bucket": settings.reports_bucket,
        "key": key,
        "url": url,
    }


def _sources(request, settings):
    """(bucket, prefix) pairs whose day partitions hold the report's rows."""
    if request.report != "audit":
        return [(settings.reports_bucket, f"{settings.exports_prefix}{request.report}/")]
    if not settings.audit_bucket:
        raise RuntimeError("AUDIT_BUCKET is not set")
    return [(settings.audit_bucket, settings.audit_prefix), (settings.audit_bucket, f"{settings.audit_prefix}archive/")]


def _read_rows(s3, sources, start, end):
    rows = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        partition = f"year={day:%Y}/month={day:%m}/day={day:%d}/"
        for bucket, prefix in sources:
            for key in _jsonl_keys(s3, bucket, prefix + partition):
                rows.extend(_read_jsonl(s3, bucket, key))
    return rows


def _jsonl_keys(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from (obj["Key"] for obj in page.get("Contents", []) if obj["Key"].endswith(".jsonl"))


def _read_jsonl(s3, bucket, key):
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    rows, skipped = [], 0
    for line in filter(str.strip, text.splitlines()):
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            skipped += 1
    if skipped:
        telemetry.log("WARNING", "malformed lines skipped", bucket=bucket, key=key, lines=skipped)
    return rows


def _to_csv(rows):
    """CSV text: columns are the union of keys, sorted, with "id" first."""
    columns = sorted({column for row in rows for column in row}, key=lambda column: (column != "id", column))
    out = io.StringIO()
    writer = csv.writer(out)
    if columns:
        writer.writerow(columns)
    writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value  # keep spreadsheets from evaluating it as a formula
    return value


def _put_csv(s3, settings, key, text, filename):
    request = {
        "Bucket": settings.reports_bucket,
        "Key": key,
        "Body": text.encode("utf-8-sig"),  # the BOM makes Excel read the accents right
        "ContentType": "text/csv; charset=utf-8",
        "ContentDisposition": f'attachment; filename="{filename}"',
    }
    if settings.kms_key_arn:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.kms_key_arn)
    s3.put_object(**request)


def _email_link(sesv2, settings, request, rows, url):
    data = {
        "report": request.report,
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "rows": rows,
        "url": url,
        "expires_hours": math.ceil(settings.link_ttl_seconds / 3600),
    }
    email = {
        "FromEmailAddress": settings.sender,
        "Destination": {"ToAddresses": [request.requested_by]},
        "Content": {"Template": {"TemplateName": settings.template_prefix + TEMPLATE, "TemplateData": json.dumps(data)}},
    }
    if settings.configuration_set:
        email["ConfigurationSetName"] = settings.configuration_set
    sesv2.send_email(**email)

