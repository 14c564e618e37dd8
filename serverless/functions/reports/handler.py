"""Build Canalco reports (xlsx, pdf or csv) on request or on a schedule, and e-mail them.

Triggers:
  * SQS (batch, ReportBatchItemFailures): every body is a request
    ``{"report": "requisitions"|"orders"|"audit", "from": "YYYY-MM-DD",
    "to": "YYYY-MM-DD", "requested_by": "user@x.co", "format": "xlsx"|"pdf"|"csv"}``
    (format defaults to xlsx).
  * Direct invoke with the same object (no "Records"): returns the result.
  * EventBridge Scheduler: ``{"source": "canalco.schedule", "type": "report.scheduled",
    "report": ..., "format": ..., "days": 7, "recipients": [...]}`` builds the report of the
    last ``days`` whole days (in TIMEZONE) and e-mails it to each recipient as an attachment.

Rows come from day partitions ``year=YYYY/month=MM/day=DD/`` (days in TIMEZONE) of JSON Lines
objects (``.jsonl``, or ``.jsonl.gz``): "audit" reads the live ``${AUDIT_PREFIX}`` objects and
the one consolidated object per day under ``${AUDIT_PREFIX}archive/`` (written by the clean-up
function) in AUDIT_BUCKET, and keeps one row per event id, sorted by occurred_at;
"requisitions" and "orders" read the exports the backend writes to
``${EXPORTS_PREFIX}<report>/`` in REPORTS_BUCKET. Each source is listed once for the whole range
(StartAfter the first day), the objects are fetched with at most FETCH_WORKERS GETs in flight,
and the rows stream to a gzip spool in /tmp and from it to the writer: memory holds one day of
rows, never the range. An object in a class GetObject cannot read (GLACIER, DEEP_ARCHIVE) is
skipped, counted in the e-mail and logged.

Limits: a format holds at most MAX_ROWS[format] rows (xlsx: a sheet's 1,048,576 rows less the
header and the total; pdf: what a person reads; csv: what the function writes within its
timeout). A request beyond a limit, or a bad request, is refused: the requester gets an e-mail
saying why and what would work, and nothing is written. Any other failure is retried (SQS) and
then reaches the dead-letter queue; on the last attempt the requester is e-mailed that the
report failed.

On-demand reports go to ``s3://$REPORTS_BUCKET/${REPORTS_PREFIX}<report>/<from>_<to>/<uuid>.<format>``
(deleted after a few days by the storage layer's lifecycle) and the e-mail carries a link
presigned with credentials of DOWNLOAD_ROLE_ARN, assumed for this one link, so the link lives
exactly as long as the e-mail says (at most one hour: role chaining). Scheduled reports are read
days later, after any link would have died: the file is attached (up to ATTACHMENT_MAX_BYTES).
"""

import collections
import concurrent.futures
import dataclasses
import email.message
import functools
import gzip
import itertools
import json
import os
import re
import tempfile
import types
import uuid
from datetime import date, datetime, timedelta, timezone

import days  # shared/days.py, packaged beside this handler
import report_files  # report_files.py, packaged beside this handler
import telemetry  # shared/telemetry.py, packaged beside this handler

REPORTS = tuple(report_files.TITLES)
FORMATS = ("xlsx", "pdf", "csv")
MAX_RANGE_DAYS = 366
# What each format holds. xlsx: a sheet has 1,048,576 rows (Excel specifications and limits),
# less the header and the total. pdf: 10,000 rows are about 280 pages, more than anyone reads
# on paper. csv: what the function writes well within its 300 s at 1,769 MB: 310,000 rows take
# under 20 s (tests/bench_reports.py), so 2,000,000 about two minutes; a year of audit at prod's
# volume (3.66 million rows) is refused with the advice to ask for shorter ranges.
MAX_ROWS = {"xlsx": 1_048_574, "pdf": 10_000, "csv": 2_000_000}
# A role assumed with a role's credentials (role chaining) lasts at most one hour (IAM User
# Guide, "Role chaining"): no link signed here can outlive that, whatever is configured.
MAX_LINK_TTL_SECONDS = 3600
MAX_RECIPIENTS = 50
# SES v2 accepts messages up to 40 MB (SES Developer Guide, "Service quotas"), attachments
# base64-encoded (+33%); Microsoft 365 mailboxes take 25 MB by default. 10 MB of file is about
# 13.5 MB of message: within both.
ATTACHMENT_MAX_BYTES = 10 * 2**20
# GETs in flight at once: enough to hide S3's per-request latency, few enough to bound memory
# (each holds one compressed day) and the connection pool.
FETCH_WORKERS = 8
TEMPLATE = "reporte-generado"
# Every variable of the template (serverless/templates/reporte-generado.json), sent with every
# email: SES accepts a send whose data misses one and then drops the email as a rendering
# failure. The template tests check these against the template the Pulumi program registers.
TEMPLATE_FIELDS = {TEMPLATE: ("report", "format", "from", "to", "rows", "url", "expires", "archived")}
SCHEDULE_SOURCE = "canalco.schedule"
SCHEDULE_TYPE = "report.scheduled"
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
    """A report request that can never succeed: refused, never retried."""


class Refused(Exception):
    """A valid request the function will not build (a format's limit): refused, never retried."""


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    report: str
    start: date
    end: date
    recipients: tuple
    format: str
    scheduled: bool = False


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
    max_receives: int

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
            max_receives=int(os.environ.get("MAX_RECEIVE_COUNT", "5")),
        )


@functools.cache
def _default_clients():
    import boto3
    from botocore.config import Config

    s3v4 = Config(signature_version="s3v4", max_pool_connections=FETCH_WORKERS)

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
    """A direct invoke or a schedule: every attempt is the caller's last word, so a failure
    e-mails the recipients before it is raised (Lambda's retries and the DLQ follow)."""
    result = _attempt(event, parse, settings, clients, now, last_attempt=True)
    if result["ok"]:
        telemetry.emit_metrics({"ReportsGenerated": 1, "EmailsSent": len(result["recipients"])})
    return {k: v for k, v in result.items() if k != "recipients"}


def _handle_batch(records, settings, clients, now):
    failures, generated, sent = [], 0, 0
    for record in records:
        message_id = record["messageId"]
        receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            result = _attempt(record.get("body"), _parse_request, settings, clients, now,
                              last_attempt=receives >= settings.max_receives, message_id=message_id)
        except Exception:  # S3/SES/STS or configuration error: SQS redelivers only this message
            failures.append({"itemIdentifier": message_id})
            continue
        if result["ok"]:
            generated += 1
            sent += len(result["recipients"])
    telemetry.emit_metrics({"ReportsGenerated": generated, "EmailsSent": sent})
    return {"batchItemFailures": failures}


def _attempt(raw, parse, settings, clients, now, last_attempt, message_id=None):
    """Parse and build one report. A refusal is answered to its recipients and returned; any
    other error is logged, e-mailed to the recipients on the last attempt, and raised."""
    recipients = _known_recipients(raw)
    try:
        request = parse(raw, now)
        recipients = request.recipients
        return _generate(request, settings, clients, now)
    except (InvalidRequest, Refused) as exc:
        telemetry.log("WARNING", "report request refused", message_id=message_id, error=str(exc), recipients=len(recipients))
        _email_problem(clients.sesv2, settings, recipients, raw, "no se generó", str(exc))
        return {"ok": False, "error": str(exc), "recipients": recipients}
    except Exception as exc:
        telemetry.log("ERROR", "report failed", message_id=message_id, last_attempt=last_attempt,
                      error=f"{type(exc).__name__}: {exc}")
        if last_attempt:
            reason = ("ocurrió un error interno al generarlo; el equipo de plataforma recibió el detalle "
                      f"(referencia {message_id or 'invocación directa'}). Puede volver a pedirlo más tarde.")
            _email_problem(clients.sesv2, settings, recipients, raw, "falló", reason)
        raise


def _as_dict(raw):
    """The request as a JSON object, or {} when it is none."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _known_recipients(raw):
    """Who to tell about a request, before (and whether or not) it parses."""
    raw = _as_dict(raw)
    candidates = raw.get("recipients") if isinstance(raw.get("recipients"), list) else [raw.get("requested_by")]
    return tuple(r for r in candidates[:MAX_RECIPIENTS] if _valid_email(r))


def _parse_request(raw, _now):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidRequest("request is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("request is not a JSON object")
    start, end = _parse_date(raw, "from"), _parse_date(raw, "to")
    return _request(raw, start, end, (_recipient(raw.get("requested_by"), "'requested_by'"),), scheduled=False)


def _parse_scheduled(raw, now):
    """The schedule's report covers the `days` whole days before today in TIMEZONE."""
    count = raw.get("days")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_RANGE_DAYS:
        raise InvalidRequest(f"'days' is not a whole number of days from 1 to {MAX_RANGE_DAYS}")
    recipients = raw.get("recipients")
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise InvalidRequest(f"'recipients' is not a list of 1 to {MAX_RECIPIENTS} e-mail addresses")
    end = days.local_day(now) - timedelta(days=1)
    return _request(raw, end - timedelta(days=count - 1), end, tuple(_recipient(r, "'recipients'") for r in recipients),
                    scheduled=True)


def _request(raw, start, end, recipients, scheduled):
    if raw.get("report") not in REPORTS:
        raise InvalidRequest(f"unknown report {raw.get('report')!r}, expected one of {', '.join(REPORTS)}")
    if start > end:
        raise InvalidRequest("'from' is after 'to'")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequest(f"range is longer than {MAX_RANGE_DAYS} days")
    fmt = raw.get("format", "xlsx")
    if fmt not in FORMATS:
        raise InvalidRequest(f"unknown format {fmt!r}, expected one of {', '.join(FORMATS)}")
    return ReportRequest(raw["report"], start, end, recipients, fmt, scheduled)


def _valid_email(value):
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL.fullmatch(value))


def _recipient(value, field):
    if not _valid_email(value):
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
    with tempfile.TemporaryDirectory(prefix="report-") as work:
        spool = _Spool(os.path.join(work, "rows.jsonl.gz"))
        profile = report_files.Profile()
        limit = MAX_ROWS[request.format]

        def keep(row):
            if profile.count == limit:
                raise Refused(_too_many(request, limit))
            profile.add(row)
            spool.write(row)

        archived = _read_rows(clients.s3, _sources(request, settings), request.start, request.end,
                              dedupe=request.report == "audit", on_row=keep)
        spool.close()
        report = report_files.Report(request.report, request.start, request.end, spool, now.astimezone(days.zone()), profile)
        path = os.path.join(work, f"{request.report}_{request.start}_{request.end}.{request.format}")
        report_files.render(report, request.format, path)
        size = os.path.getsize(path)
        result = {
            "ok": True, "report": request.report, "format": request.format, "from": request.start.isoformat(),
            "to": request.end.isoformat(), "rows": report.count, "archived_files": archived, "bytes": size,
            "recipients": request.recipients,
        }
        if request.scheduled:
            if size > ATTACHMENT_MAX_BYTES:
                raise Refused(f"the {request.format} file is {size / 2**20:.1f} MB, more than the {ATTACHMENT_MAX_BYTES // 2**20} MB "
                              "an e-mail attachment may be; schedule csv (the smallest) or a shorter period")
            for recipient in request.recipients:  # one e-mail each: recipients never see each other
                _email_attachment(clients.sesv2, settings, request, recipient, report.count, archived, path)
        else:
            key = f"{settings.reports_prefix}{request.report}/{request.start}_{request.end}/{uuid.uuid4()}.{request.format}"
            _put_report(clients.s3, settings, key, path, request.format)
            url, expires = _download_link(clients, settings, key, now)
            for recipient in request.recipients:
                _email_link(clients.sesv2, settings, request, recipient, report.count, archived, url, expires)
            result.update(bucket=settings.reports_bucket, key=key, url=url, expires=expires.isoformat())
    telemetry.log("INFO", "report generated", report=request.report, format=request.format, rows=report.count,
                  archived_files=archived, bytes=size, recipients=len(request.recipients), attached=request.scheduled)
    return result


def _too_many(request, limit):
    fits = [f for f in FORMATS if f != request.format and MAX_ROWS[f] > limit]
    advice = f"ask for {' or '.join(fits)}, or a shorter range" if fits else "ask for shorter ranges"
    return f"the range has more than {limit:,} rows, the most a {request.format} report holds: {advice}"


class _Spool:
    """Rows on local disk (gzip, fast level), to be read as many times as the writer needs."""

    def __init__(self, path):
        self.path = path
        self._out = gzip.open(path, "wt", encoding="utf-8", compresslevel=1)

    def write(self, row):
        self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self):
        self._out.close()

    def __iter__(self):
        with gzip.open(self.path, "rt", encoding="utf-8") as rows:
            for line in rows:
                yield json.loads(line)


def _sources(request, settings):
    """(bucket, base) pairs whose day partitions base + year=.../ hold the report's rows."""
    if request.report != "audit":
        return [(settings.reports_bucket, f"{settings.exports_prefix}{request.report}/")]
    if not settings.audit_bucket:
        raise RuntimeError("AUDIT_BUCKET is not set")
    return [(settings.audit_bucket, f"{settings.audit_prefix}archive/"), (settings.audit_bucket, settings.audit_prefix)]


def _read_rows(s3, sources, start, end, dedupe, on_row):
    """Pass the range's rows to on_row, day by day; return how many archived files were skipped.
    With dedupe (the audit log) each event id appears once, and a day's rows are sorted by
    occurred_at: the live objects of a day may repeat events the archive already holds."""
    objects, archived = [], 0
    for bucket, base in sources:
        for day, obj in _list_range(s3, bucket, base, start, end):
            if obj.get("StorageClass") in ARCHIVED_CLASSES:
                archived += 1
                telemetry.log("WARNING", "archived file skipped", bucket=bucket, key=obj["Key"], storage_class=obj["StorageClass"])
                continue
            objects.append((day, bucket, obj["Key"]))
    objects.sort()
    for _, fetched in itertools.groupby(_fetch(s3, objects), key=lambda item: item[0]):
        rows = []
        for _, bucket, key, body in fetched:
            if body is None:
                archived += 1
            else:
                rows.extend(_decode_jsonl(body, bucket, key))
        if dedupe:
            rows = sorted({row.get("id"): row for row in reversed(rows)}.values(), key=days.event_order)
        for row in rows:
            on_row(row)
    return archived


def _list_range(s3, bucket, base, start, end):
    """(day, object) of the .jsonl and .jsonl.gz objects of base's partitions from start to end,
    in one listing: it starts after the day before start and stops at the first later day."""
    paginator = s3.get_paginator("list_objects_v2")
    first = base + days.partition(start)[:-1]  # "…/day=09" sorts just before "…/day=09/<anything>"
    for page in paginator.paginate(Bucket=bucket, Prefix=base + "year=", StartAfter=first):
        for obj in page.get("Contents", []):
            day = days.partition_day(obj["Key"][len(base):])
            if day is None or day < start:
                continue
            if day > end:
                return
            if obj["Key"].endswith((".jsonl", ".jsonl.gz")):
                yield day, obj


def _fetch(s3, objects):
    """(day, bucket, key, body or None when archived) in the order of objects, with at most
    FETCH_WORKERS GETs in flight and as many bodies waiting."""

    def get(bucket, key):
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            # Archived between the listing and the read: skipped like the others.
            if _error_code(exc) != "InvalidObjectState":
                raise
            telemetry.log("WARNING", "archived file skipped", bucket=bucket, key=key)
            return None

    with concurrent.futures.ThreadPoolExecutor(FETCH_WORKERS) as pool:
        waiting = collections.deque()

        def oldest():
            day, bucket, key, future = waiting.popleft()
            return day, bucket, key, future.result()

        for day, bucket, key in objects:
            waiting.append((day, bucket, key, pool.submit(get, bucket, key)))
            if len(waiting) == 2 * FETCH_WORKERS:
                yield oldest()
        while waiting:
            yield oldest()


def _error_code(exc):
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def _decode_jsonl(body, bucket, key):
    if key.endswith(".gz"):
        body = gzip.decompress(body)
    rows, skipped = [], 0
    for line in filter(str.strip, body.decode("utf-8").splitlines()):
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


def _put_report(s3, settings, key, path, fmt):
    with open(path, "rb") as body:
        request = {
            "Bucket": settings.reports_bucket,
            "Key": key,
            "Body": body,
            "ContentType": CONTENT_TYPES[fmt],
            "ContentDisposition": f'attachment; filename="{os.path.basename(path)}"',
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
    local = expires.astimezone(days.zone())
    data = {
        "report": report_files.TITLES[request.report],
        "format": request.format.upper(),
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "rows": rows,
        "url": url,
        "expires": f"{local:%Y-%m-%d %H:%M} (hora de {_place()})",
        "archived": archived,
    }
    content = {"Template": {"TemplateName": settings.template_prefix + TEMPLATE, "TemplateData": json.dumps(data, ensure_ascii=False)}}
    _send(sesv2, settings, recipient, content)


def _place():
    """The time zone as the e-mails name it: "Bogotá" for America/Bogota."""
    key = days.zone().key
    return "Bogotá" if key == "America/Bogota" else key


def _email_attachment(sesv2, settings, request, recipient, rows, archived, path):
    title = report_files.TITLES[request.report]
    message = email.message.EmailMessage()
    message["From"], message["To"] = settings.sender, recipient
    message["Subject"] = f"Reporte {title} ({request.format.upper()}) del {request.start} al {request.end}"
    text = f"Adjunto el reporte {title} del {request.start} al {request.end}: {rows} filas."
    if archived:
        text += f" {archived} archivos de datos archivados (Glacier) no se incluyeron."
    message.set_content(text + "\n\nCanalco\n")
    maintype, subtype = CONTENT_TYPES[request.format].split(";")[0].split("/")
    with open(path, "rb") as attachment:
        message.add_attachment(attachment.read(), maintype=maintype, subtype=subtype, filename=os.path.basename(path))
    _send(sesv2, settings, recipient, {"Raw": {"Data": message.as_bytes()}})


def _email_problem(sesv2, settings, recipients, raw, what, reason):
    """Tell the requester why there is no report. Failing to tell is logged, never raised over
    the error being told."""
    report = report_files.TITLES.get(_as_dict(raw).get("report"), "solicitado")
    subject = f"El reporte {report} {what}"
    text = f"El reporte {report} que pidió {what}: {reason}\n\nCanalco\n"
    for recipient in recipients:
        try:
            _send(sesv2, settings, recipient, {"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}})
        except Exception as exc:
            telemetry.log("ERROR", "could not e-mail the requester", error=f"{type(exc).__name__}: {exc}")


def _send(sesv2, settings, recipient, content):
    message = {"FromEmailAddress": settings.sender, "Destination": {"ToAddresses": [recipient]}, "Content": content}
    if settings.configuration_set:
        message["ConfigurationSetName"] = settings.configuration_set
    sesv2.send_email(**message)
