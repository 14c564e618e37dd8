"""Build Canalco reports (xlsx, pdf or csv) on request or on a schedule, and e-mail a download link.

Triggers:
  * SQS (batch, ReportBatchItemFailures): every body is a request
    ``{"report": "requisitions"|"orders"|"audit", "from": "YYYY-MM-DD",
    "to": "YYYY-MM-DD", "requested_by": "user@x.co", "format": "xlsx"|"pdf"|"csv"}``
    (format defaults to xlsx).
  * Direct invoke with the same object (no "Records"): returns the result.
  * EventBridge Scheduler: ``{"source": "canalco.schedule", "type": "report.scheduled",
    "report": ..., "format": ..., "days": 7, "recipients": [...]}`` builds the report of the
    last ``days`` whole days (Bogotá time) and sends the link to each recipient.

Rows come from JSON-lines day partitions ``year=YYYY/month=MM/day=DD/*.jsonl``:
"audit" reads ``${AUDIT_PREFIX}`` and ``${AUDIT_PREFIX}archive/`` in
AUDIT_BUCKET; "requisitions" and "orders" read the exports the backend writes
to ``${EXPORTS_PREFIX}<report>/`` in REPORTS_BUCKET (the database stays in its
private subnet; this function runs outside the VPC). The storage layer moves
these buckets to GLACIER_IR, which GetObject reads; an object in a class it
cannot read (GLACIER, DEEP_ARCHIVE: older data, or archived by hand) is skipped,
counted in the e-mail and logged: a report never fails on archived data.

The file goes to ``s3://$REPORTS_BUCKET/${REPORTS_PREFIX}<report>/<from>_<to>/<uuid>.<format>``
(the storage layer's lifecycle rule deletes it after a few days). The e-mailed link is
presigned with credentials of DOWNLOAD_ROLE_ARN, assumed for this one link: their
expiry is known, so the link lives exactly as long as the e-mail says (at most
LINK_TTL_SECONDS, and at most the one hour a role assumed by a role may last).

Failure contract: an invalid request is dropped (SQS) or answered
``{"ok": false, "error": ...}`` (direct invoke, schedule); any other error reports only
that SQS message in batchItemFailures, and is raised on a direct invoke or a schedule
(which retries it, then sends it to its DLQ).
"""

import dataclasses
import functools
import json
import os
import re
import types
import uuid
from datetime import date, datetime, timedelta, timezone

import report_files  # report_files.py, packaged beside this handler
import telemetry  # shared/telemetry.py, packaged beside this handler

REPORTS = tuple(report_files.TITLES)
FORMATS = ("xlsx", "pdf", "csv")
MAX_RANGE_DAYS = 366
# A role assumed with a role's credentials (role chaining) lasts at most one hour (IAM User
# Guide, "Role chaining"): no link signed here can outlive that, whatever is configured.
MAX_LINK_TTL_SECONDS = 3600
MAX_RECIPIENTS = 50
TEMPLATE = "reporte-generado"
# Every variable of the template (serverless/templates/reporte-generado.json), sent with every
# email: SES accepts a send whose data misses one and then drops the email as a rendering
# failure. The template tests check these against the template the Pulumi program registers.
TEMPLATE_FIELDS = {TEMPLATE: ("report", "format", "from", "to", "rows", "url", "expires", "archived")}
SCHEDULE_SOURCE = "canalco.schedule"
SCHEDULE_TYPE = "report.scheduled"
# Bogotá has kept UTC-5 without daylight saving since 1993; a fixed offset needs no tz database.
BOGOTA = timezone(timedelta(hours=-5), "America/Bogota")
# GetObject fails with InvalidObjectState on these classes (S3 API Reference, GetObject);
# GLACIER_IR is read like STANDARD.
ARCHIVED_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class InvalidRequest(ValueError):
    """A report request that can never succeed: dropped, never retried."""


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    report: str
    start: date
    end: date
    recipients: tuple
    format: str


@dataclasses.dataclass(frozen=True)
class Settings:
    reports_bucket: str
    reports_prefix: str
    exports_prefix: str
    audit_bucket: str
    audit_prefix: str
    kms_key_arn: str
    link_ttl_seconds: int
    download_role_arn: str
    sender: str
    configuration_set: str
    template_prefix: str

    @classmethod
    def from_env(cls):
        link_ttl = int(os.environ.get("LINK_TTL_SECONDS", str(MAX_LINK_TTL_SECONDS)))
        if link_ttl < 900:
            raise ValueError("LINK_TTL_SECONDS must be at least 900 (STS's shortest session)")
        return cls(
            reports_bucket=os.environ["REPORTS_BUCKET"],
            reports_prefix=os.environ.get("REPORTS_PREFIX", "reports/"),
            exports_prefix=os.environ.get("EXPORTS_PREFIX", "exports/"),
            audit_bucket=os.environ.get("AUDIT_BUCKET", ""),
            audit_prefix=os.environ.get("AUDIT_PREFIX", "audit/"),
            kms_key_arn=os.environ.get("KMS_KEY_ARN", ""),
            link_ttl_seconds=min(link_ttl, MAX_LINK_TTL_SECONDS),
            download_role_arn=os.environ["DOWNLOAD_ROLE_ARN"],
            sender=os.environ["SENDER"],
            configuration_set=os.environ.get("CONFIGURATION_SET", ""),
            template_prefix=os.environ.get("TEMPLATE_PREFIX", ""),
        )


@functools.cache
def _default_clients():
    import boto3
    from botocore.config import Config

    s3v4 = Config(signature_version="s3v4")

    def signer(credentials):
        """An S3 client that signs with the assumed download role's credentials."""
        return boto3.client(
            "s3",
            config=s3v4,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    return types.SimpleNamespace(
        s3=boto3.client("s3", config=s3v4), sesv2=boto3.client("sesv2"), sts=boto3.client("sts"), signer=signer
    )


def handler(event, context, clients=None, now=None):
    clients = clients or _default_clients()
    settings = Settings.from_env()
    now = now or datetime.now(timezone.utc)
    if isinstance(event, dict) and "Records" in event:
        return _handle_batch(event["Records"], settings, clients, now)
    if isinstance(event, dict) and event.get("source") == SCHEDULE_SOURCE:
        return _handle_one(event, _parse_scheduled, settings, clients, now)
    return _handle_one(event, _parse_request, settings, clients, now)


def _handle_one(event, parse, settings, clients, now):
    try:
        request = parse(event, now)
    except InvalidRequest as exc:
        telemetry.log("WARNING", "invalid report request", error=str(exc))
        return {"ok": False, "error": str(exc)}
    result = _generate(request, settings, clients, now)
    telemetry.emit_metrics({"ReportsGenerated": 1, "EmailsSent": len(request.recipients)})
    return result


def _handle_batch(records, settings, clients, now):
    failures, generated = [], 0
    for record in records:
        message_id = record["messageId"]
        try:
            request = _parse_request(record.get("body"), now)
        except InvalidRequest as exc:
            telemetry.log("WARNING", "invalid report request dropped", message_id=message_id, error=str(exc))
            continue
        try:
            _generate(request, settings, clients, now)
        except Exception as exc:  # S3/SES/STS or configuration error: SQS redelivers only this message
            telemetry.log("ERROR", "report failed, will be retried", message_id=message_id, error=f"{type(exc).__name__}: {exc}")
            failures.append({"itemIdentifier": message_id})
            continue
        generated += 1
    telemetry.emit_metrics({"ReportsGenerated": generated, "EmailsSent": generated})
    return {"batchItemFailures": failures}


def _parse_request(raw, _now):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidRequest("request is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("request is not a JSON object")
    start, end = _parse_date(raw, "from"), _parse_date(raw, "to")
    return _request(raw, start, end, (_recipient(raw.get("requested_by"), "'requested_by'"),))


def _parse_scheduled(raw, now):
    """The schedule's report covers the `days` whole days before today in Bogotá."""
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RANGE_DAYS:
        raise InvalidRequest(f"'days' is not a whole number of days from 1 to {MAX_RANGE_DAYS}")
    recipients = raw.get("recipients")
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise InvalidRequest(f"'recipients' is not a list of 1 to {MAX_RECIPIENTS} e-mail addresses")
    end = now.astimezone(BOGOTA).date() - timedelta(days=1)
    return _request(raw, end - timedelta(days=days - 1), end, tuple(_recipient(r, "'recipients'") for r in recipients))


def _request(raw, start, end, recipients):
    if raw.get("report") not in REPORTS:
        raise InvalidRequest(f"unknown report {raw.get('report')!r}, expected one of {', '.join(REPORTS)}")
    if start > end:
        raise InvalidRequest("'from' is after 'to'")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequest(f"range is longer than {MAX_RANGE_DAYS} days")
    fmt = raw.get("format", "xlsx")
    if fmt not in FORMATS:
        raise InvalidRequest(f"unknown format {fmt!r}, expected one of {', '.join(FORMATS)}")
    return ReportRequest(raw["report"], start, end, recipients, fmt)


def _recipient(value, field):
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value):
        raise InvalidRequest(f"{field} is not a valid e-mail address")
    return value


def _parse_date(raw, field):
    value = raw.get(field)
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidRequest(f"'{field}' is not a YYYY-MM-DD date")


def _generate(request, settings, clients, now):
    rows, archived = _read_rows(clients.s3, _sources(request, settings), request.start, request.end)
    report = report_files.Report(request.report, request.start, request.end, rows, generated=now.astimezone(BOGOTA))
    body = report_files.render(report, request.format)
    name = f"{request.report}_{request.start}_{request.end}.{request.format}"
    key = f"{settings.reports_prefix}{request.report}/{request.start}_{request.end}/{uuid.uuid4()}.{request.format}"
    _put_report(clients.s3, settings, key, body, request.format, name)
    url, expires = _download_link(clients, settings, key, now)
    for recipient in request.recipients:  # one e-mail each: recipients never see each other
        _email_link(clients.sesv2, settings, request, recipient, len(rows), archived, url, expires)
    telemetry.log("INFO", "report generated", report=request.report, format=request.format, rows=len(rows),
                  archived_files=archived, key=key, bytes=len(body), recipients=len(request.recipients))
    return {
        "ok": True,
        "report": request.report,
        "format": request.format,
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "rows": len(rows),
        "archived_files": archived,
        "bucket": settings.reports_bucket,
        "key": key,
        "url": url,
        "expires": expires.isoformat(),
    }


def _sources(request, settings):
    """(bucket, prefix) pairs whose day partitions hold the report's rows."""
    if request.report != "audit":
        return [(settings.reports_bucket, f"{settings.exports_prefix}{request.report}/")]
    if not settings.audit_bucket:
        raise RuntimeError("AUDIT_BUCKET is not set")
    return [(settings.audit_bucket, settings.audit_prefix), (settings.audit_bucket, f"{settings.audit_prefix}archive/")]


def _read_rows(s3, sources, start, end):
    """The rows of the range, and how many archived files could not be read."""
    rows, archived = [], 0
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        partition = f"year={day:%Y}/month={day:%m}/day={day:%d}/"
        for bucket, prefix in sources:
            for obj in _jsonl_objects(s3, bucket, prefix + partition):
                if obj.get("StorageClass") in ARCHIVED_CLASSES:
                    archived += 1
                    telemetry.log("WARNING", "archived file skipped", bucket=bucket, key=obj["Key"], storage_class=obj["StorageClass"])
                    continue
                try:
                    rows.extend(_read_jsonl(s3, bucket, obj["Key"]))
                except Exception as exc:
                    # Archived between the listing and the read: skipped like the others.
                    if _error_code(exc) != "InvalidObjectState":
                        raise
                    archived += 1
                    telemetry.log("WARNING", "archived file skipped", bucket=bucket, key=obj["Key"])
    return rows, archived


def _error_code(exc):
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def _jsonl_objects(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from (obj for obj in page.get("Contents", []) if obj["Key"].endswith(".jsonl"))


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


def _put_report(s3, settings, key, body, fmt, filename):
    request = {
        "Bucket": settings.reports_bucket,
        "Key": key,
        "Body": body,
        "ContentType": CONTENT_TYPES[fmt],
        "ContentDisposition": f'attachment; filename="{filename}"',
    }
    if settings.kms_key_arn:
        request.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.kms_key_arn)
    s3.put_object(**request)


def _download_link(clients, settings, key, now):
    """A GET link signed with fresh credentials of the download role, and when it stops working.

    A presigned URL stops working when the credentials that signed it expire (S3 User Guide,
    "Download and upload objects with presigned URLs"). The function's own credentials have no
    expiry it can read, so it assumes the download role (read-only on the reports) and signs
    with credentials whose Expiration STS states.
    """
    credentials = clients.sts.assume_role(
        RoleArn=settings.download_role_arn,
        RoleSessionName=f"report-link-{uuid.uuid4().hex[:16]}",
        DurationSeconds=settings.link_ttl_seconds,
    )["Credentials"]
    lifetime = min(settings.link_ttl_seconds, int((credentials["Expiration"] - now).total_seconds()))
    if lifetime < 60:
        raise RuntimeError(f"the download role's credentials expire in {lifetime} s")
    url = clients.signer(credentials).generate_presigned_url(
        "get_object", Params={"Bucket": settings.reports_bucket, "Key": key}, ExpiresIn=lifetime
    )
    # The signature counts whole seconds from its own time, never earlier than now's second.
    return url, now.replace(microsecond=0) + timedelta(seconds=lifetime)


def _email_link(sesv2, settings, request, recipient, rows, archived, url, expires):
    local = expires.astimezone(BOGOTA)
    data = {
        "report": report_files.TITLES[request.report],
        "format": request.format.upper(),
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "rows": rows,
        "url": url,
        "expires": f"{local:%Y-%m-%d %H:%M} (hora de Bogotá)",
        "archived": archived,
    }
    email = {
        "FromEmailAddress": settings.sender,
        "Destination": {"ToAddresses": [recipient]},
        "Content": {"Template": {"TemplateName": settings.template_prefix + TEMPLATE, "TemplateData": json.dumps(data, ensure_ascii=False)}},
    }
    if settings.configuration_set:
        email["ConfigurationSetName"] = settings.configuration_set
    sesv2.send_email(**email)
