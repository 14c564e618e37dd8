import contextlib
import email
import email.policy
import gzip
import io
import json
import os
import threading
import tracemalloc
import types
import unittest
from datetime import date, datetime, timedelta, timezone
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.exceptions
import openpyxl
import pypdf
from botocore.config import Config
from reportlab.pdfbase import pdfmetrics

from tests.aws import MotoTestCase, fail
from tests.fakes import FakeContext, FakeSESv2, load_handler, metrics

reports = load_handler("reports")
import report_files  # noqa: E402  (on the path once the handler is loaded)

REPORTS = "canalco-dev-reportes-123456789012-us-east-1"
AUDIT = "canalco-dev-auditoria-123456789012-us-east-1"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = "arn:aws:iam::123456789012:role/canalco-dev-report-links"
ENV = {
    "REPORTS_BUCKET": REPORTS,
    "AUDIT_BUCKET": AUDIT,
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "DOWNLOAD_ROLE_ARN": ROLE_ARN,
    "SENDER": "no-reply@canalco.example",
    "CONFIGURATION_SET": "canalco-dev",
    "TEMPLATE_PREFIX": "canalco-dev-",
    "ENVIRONMENT": "dev",
    "TIMEZONE": "America/Bogota",
    "MAX_RECEIVE_COUNT": "5",
}
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# 2024-06-05 14:30 in Bogotá.
NOW = datetime(2024, 6, 5, 19, 30, tzinfo=timezone.utc)


def request(report="requisitions", start="2024-05-01", end="2024-05-02", requested_by="ana@canalco.co", fmt="csv", **extra):
    return {"report": report, "from": start, "to": end, "requested_by": requested_by, "format": fmt, **extra}


def jsonl(*rows):
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


class ReportsTestBase(MotoTestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, ENV, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        super().setUp()
        self.s3 = self.client("s3", signature_version="s3v4")
        self.seed = boto3.client("s3", region_name="us-east-1")  # the tests' own writes, not recorded
        self.sts = self.client("sts")
        moto_ses = self.client("sesv2")
        moto_ses.create_email_identity(EmailIdentity="canalco.example")
        self.ses = FakeSESv2(client=moto_ses)
        self.signed_with = []
        self.clients = types.SimpleNamespace(s3=self.s3, sesv2=self.ses, sts=self.sts, signer=self.signer)
        self.addCleanup(self.assert_every_email_rendered)
        for bucket in (REPORTS, AUDIT):
            self.seed.create_bucket(Bucket=bucket)
        day1 = "exports/requisitions/year=2024/month=05/day=01/"
        self.add(REPORTS, day1 + "part-0.jsonl", jsonl(
            {"id": "REQ-1", "title": "Cable, 12 AWG", "amount": 1500.5, "requester": "ana@canalco.co",
             "items": [{"sku": "C12", "qty": 3}], "approved": True, "needed_on": "2024-05-20",
             "created_at": "2024-05-01T15:04:05Z"},
            {"id": "REQ-2", "title": '=HYPERLINK("http://x")', "amount": -20, "note": None, "status": "-5",
             "needed_on": "2024-06-01", "created_at": "2024-05-01T23:59:00-05:00"},
        ) + b"\nnot json\n[1, 2]\n")
        day2 = "exports/requisitions/year=2024/month=05/day=02/"
        self.add(REPORTS, day2 + "part-0.jsonl", jsonl({"title": 'Tubería "PVC"', "id": "REQ-3", "extra": "línea\nnueva"}))
        self.add(REPORTS, day2 + "_SUCCESS", b"")
        self.add(REPORTS, "exports/requisitions/year=2024/month=05/day=03/part-0.jsonl", jsonl({"id": "REQ-4"}))
        self.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl({"id": "OC-1", "total": 10}))
        self.aws.clear()

    def add(self, bucket, key, body, **extra):
        self.seed.put_object(Bucket=bucket, Key=key, Body=body, **extra)

    def signer(self, credentials):
        """botocore's own S3 client, with the assumed role's credentials, signs the link."""
        self.signed_with.append(credentials)
        return boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"),
                            aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])

    def invoke(self, event, now=NOW, context=None):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = reports.handler(event, context or FakeContext(), clients=self.clients, now=now)
        return result, [json.loads(line) for line in out.getvalue().splitlines()]

    def sqs(self, *bodies, receives=1):
        return self.invoke({"Records": [
            {"messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body),
             "attributes": {"ApproximateReceiveCount": str(receives)}}
            for i, body in enumerate(bodies)
        ]})

    def put(self):
        """The report's PutObject parameters, and the object as S3 stored it."""
        (put,) = self.aws.to("PutObject")
        stored = self.s3.get_object(Bucket=put["Bucket"], Key=put["Key"])
        return dict(put, Body=stored["Body"].read(), Stored=stored)

    def templated(self):
        return [kwargs for kwargs in self.ses.calls_to("SendEmail") if "Template" in kwargs["Content"]]

    def plain_emails(self):
        """(to, subject, text) of the simple e-mails SES accepted."""
        return [(m.destinations["ToAddresses"], m.subject, m.body) for m in self.sent_emails() if hasattr(m, "subject")]

    def assert_every_email_rendered(self):
        """SES accepts a send whose data misses a template variable and then drops the email."""
        self.assertEqual(self.ses.events, [], "SES would drop the email as a rendering failure")

    def template_data(self, email):
        return json.loads(email["Content"]["Template"]["TemplateData"])


class CsvTest(ReportsTestBase):
    def test_builds_the_csv_uploads_it_and_emails_a_link(self):
        result, lines = self.invoke(request())

        put = self.put()
        self.assertRegex(put["Key"], f"^reports/requisitions/2024-05-01_2024-05-02/{UUID}\\.csv$")
        self.assertTrue(put["Body"].startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM")
        self.assertEqual(put["Body"][3:].decode("utf-8"), (
            "id,amount,approved,created_at,extra,items,needed_on,note,requester,status,title\r\n"
            'REQ-1,1500.5,true,2024-05-01T15:04:05Z,,"[{""qty"":3,""sku"":""C12""}]",2024-05-20,,ana@canalco.co,,"Cable, 12 AWG"\r\n'
            "REQ-2,-20,,2024-05-01T23:59:00-05:00,,,2024-06-01,,,-5,\"'=HYPERLINK(\"\"http://x\"\")\"\r\n"
            'REQ-3,,,,"línea\nnueva",,,,,,"Tubería ""PVC"""\r\n'
        ))
        self.assertEqual((put["ContentType"], put["ContentDisposition"], put["ServerSideEncryption"], put["SSEKMSKeyId"]), (
            "text/csv; charset=utf-8", 'attachment; filename="requisitions_2024-05-01_2024-05-02.csv"', "aws:kms", KMS_KEY_ARN))
        self.assertEqual(put["Stored"]["ServerSideEncryption"], "aws:kms")
        # One listing for the range, one GET per data object (not _SUCCESS, not day 3).
        (listing,) = self.aws.to("ListObjectsV2")
        self.assertEqual((listing["Prefix"], listing["StartAfter"]),
                         ("exports/requisitions/year=", "exports/requisitions/year=2024/month=05/day=01"))
        self.assertEqual(sorted(call["Key"] for call in self.aws.to("GetObject") if call["Bucket"] == REPORTS and "exports" in call["Key"]), [
            "exports/requisitions/year=2024/month=05/day=01/part-0.jsonl",
            "exports/requisitions/year=2024/month=05/day=02/part-0.jsonl",
        ])
        (email_call,) = self.templated()
        self.assertEqual({k: v for k, v in email_call.items() if k != "Content"}, {
            "FromEmailAddress": "no-reply@canalco.example",
            "Destination": {"ToAddresses": ["ana@canalco.co"]},
            "ConfigurationSetName": "canalco-dev",
        })
        self.assertEqual(email_call["Content"]["Template"]["TemplateName"], "canalco-dev-reporte-generado")
        data = self.template_data(email_call)
        self.assertEqual({k: v for k, v in data.items() if k != "url"}, {
            "report": "Requisiciones", "format": "CSV", "from": "2024-05-01", "to": "2024-05-02", "rows": 3,
            "expires": "2024-06-05 15:30 (hora de Bogotá)", "archived": 0,
        })
        self.assertEqual(set(data), set(reports.TEMPLATE_FIELDS[reports.TEMPLATE]))
        self.assertEqual(result["url"], data["url"])
        (mail,) = self.ses.delivered
        self.assertEqual(mail["subject"], "Reporte Requisiciones (CSV) del 2024-05-01 al 2024-05-02")
        self.assertIn(f'href="{data["url"]}"', mail["html"])
        self.assertNotIn("archivados", mail["text"])
        self.assertEqual((result["rows"], result["format"], result["expires"]), (3, "csv", "2024-06-05T20:30:00+00:00"))
        self.assertEqual(metrics(lines), {
            "ReportsGenerated": 1, "EmailsSent": 1, "_namespace": "Canalco/Business", "_environment": "dev",
        })
        (warning,) = [line for line in lines if line.get("level") == "WARNING"]
        self.assertEqual(warning["lines"], 2)

    def test_empty_range_still_produces_and_sends_an_empty_report(self):
        del os.environ["KMS_KEY_ARN"]
        result, _ = self.invoke(request("orders", "2023-01-01", "2023-01-01"))

        put = self.put()
        self.assertEqual(put["Body"], b"\xef\xbb\xbf")
        self.assertNotIn("ServerSideEncryption", self.aws.to("PutObject")[0])
        self.assertEqual(result["rows"], 0)
        self.assertEqual(len(self.templated()), 1)


def audit_event(event_id, occurred_at, action="a"):
    return {"id": event_id, "occurred_at": occurred_at, "action": action}


class AuditReportTest(ReportsTestBase):
    """The audit layout: one consolidated gzip object per Bogotá day under archive/ (clean-up),
    plus the live objects of days not consolidated yet, which may repeat archived events."""

    def archive_day(self, day, *events, **extra):
        body = gzip.compress(jsonl(*events))
        self.add(AUDIT, f"audit/archive/year={day[:4]}/month={day[5:7]}/day={day[8:]}/events.jsonl.gz", body, **extra)

    def test_one_row_per_event_sorted_across_archive_and_live_objects_of_bogota_days(self):
        # 2024-01-10 03:00Z is still the 9th in Bogotá: the audit function stored it under day=09.
        self.archive_day("2024-01-09", audit_event("e1", "2024-01-09T10:00:00-05:00"), audit_event("e2", "2024-01-10T03:00:00Z"))
        self.add(AUDIT, "audit/year=2024/month=01/day=09/batch-a.jsonl", jsonl(
            audit_event("e2", "2024-01-10T03:00:00Z"),  # redelivered by SQS: stored twice, reported once
            audit_event("e0", "2024-01-09T06:00:00-05:00")))
        self.add(AUDIT, "audit/year=2024/month=01/day=10/batch-b.jsonl", jsonl(audit_event("e3", "2024-01-10T09:00:00-05:00")))
        self.add(AUDIT, "audit/rejected/year=2024/month=01/day=10/req-b.jsonl", jsonl({"reason": "bad"}))
        self.add(AUDIT, "audit/year=2024/month=01/day=11/batch-c.jsonl", jsonl(audit_event("e4", "2024-01-11T09:00:00-05:00")))
        self.archive_day("2024-01-08", audit_event("old", "2024-01-08T09:00:00-05:00"))

        result, _ = self.invoke(request("audit", "2024-01-09", "2024-01-10"))

        self.assertEqual(self.put()["Body"].decode("utf-8-sig"), (
            "id,action,occurred_at\r\n"
            "e0,a,2024-01-09T06:00:00-05:00\r\ne1,a,2024-01-09T10:00:00-05:00\r\ne2,a,2024-01-10T03:00:00Z\r\n"
            "e3,a,2024-01-10T09:00:00-05:00\r\n"))
        self.assertEqual(result["rows"], 4)
        # One listing per source, one GET per object of the range: never a day outside it.
        self.assertEqual([(c["Prefix"], c["StartAfter"]) for c in self.aws.to("ListObjectsV2")], [
            ("audit/archive/year=", "audit/archive/year=2024/month=01/day=09"),
            ("audit/year=", "audit/year=2024/month=01/day=09")])
        self.assertEqual(len([c for c in self.aws.to("GetObject") if c["Bucket"] == AUDIT]), 3)

    def test_a_month_of_days_is_one_listing_per_source_and_one_get_per_day_with_bounded_parallelism(self):
        start = date(2024, 3, 1)
        for offset in range(31):
            day = (start + timedelta(days=offset)).isoformat()
            self.archive_day(day, *(audit_event(f"{day}-{i}", f"{day}T12:{i:02d}:00-05:00") for i in range(20)))
        self.aws.clear()
        in_flight, peak, lock = [0], [0], threading.Lock()

        def started(**_):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])

        def finished(**_):
            with lock:
                in_flight[0] -= 1

        self.s3.meta.events.register("before-call.s3.GetObject", started)
        self.s3.meta.events.register("after-call.s3.GetObject", finished)

        result, _ = self.invoke(request("audit", "2024-03-01", "2024-03-31"))

        self.assertEqual(result["rows"], 620)
        self.assertEqual(len(self.aws.to("ListObjectsV2")), 2)
        self.assertEqual(len([c for c in self.aws.to("GetObject") if "archive" in c["Key"]]), 31)
        self.assertLessEqual(peak[0], reports.FETCH_WORKERS)
        self.assertGreater(peak[0], 1, "GETs ran one at a time")

    def test_memory_does_not_grow_with_the_range(self):
        """Rows stream from the day objects through the spool to the writer: the peak before the
        upload is about one day's rows, whatever the number of days. (The upload streams the file
        from disk; moto, in this process, keeps what it receives, so it is left out.)"""
        real_put = reports._put_report

        def peak(days_count, fmt):
            measured = []

            def put(*args):
                measured.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                real_put(*args)

            start = date(2024, 1, 1)
            tracemalloc.start()
            try:
                with mock.patch.object(reports, "_put_report", put):
                    self.invoke(request("audit", start.isoformat(), (start + timedelta(days=days_count - 1)).isoformat(), fmt=fmt))
            finally:
                tracemalloc.stop()
            return measured[0]

        text = "x" * 300
        for offset in range(40):
            day = (date(2024, 1, 1) + timedelta(days=offset)).isoformat()
            self.archive_day(day, *({**audit_event(f"{day}-{i}", f"{day}T10:00:00-05:00"), "details": text} for i in range(500)))
        for fmt in ("csv", "xlsx"):
            with self.subTest(fmt):
                small, large = peak(5, fmt), peak(40, fmt)
                self.assertLess(large, 1.5 * small, f"{fmt}: 40 days peaked at {large:,} bytes, 5 days at {small:,}")


class XlsxTest(ReportsTestBase):
    def workbook(self, body):
        return openpyxl.load_workbook(io.BytesIO(body))

    def test_typed_columns_header_panes_filter_and_totals(self):
        result, _ = self.invoke(request(fmt="xlsx"))

        put = self.put()
        self.assertRegex(put["Key"], "\\.xlsx$")
        self.assertEqual(put["ContentType"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.assertEqual(put["ContentDisposition"], 'attachment; filename="requisitions_2024-05-01_2024-05-02.xlsx"')
        book = self.workbook(put["Body"])
        self.assertEqual(book.sheetnames, ["Requisiciones"])
        sheet = book["Requisiciones"]
        header = [cell.value for cell in sheet[1]]
        self.assertEqual(header, ["id", "amount", "approved", "created_at", "extra", "items", "needed_on", "note",
                                  "requester", "status", "title"])
        self.assertTrue(all(cell.font.b for cell in sheet[1]))
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertEqual(sheet.auto_filter.ref, "A1:K4")
        col = {name: i + 1 for i, name in enumerate(header)}
        amount = sheet.cell(2, col["amount"])
        self.assertEqual((amount.value, amount.data_type, amount.number_format), (1500.5, "n", report_files.COP_FORMAT))
        needed = sheet.cell(2, col["needed_on"])
        self.assertEqual((needed.value, needed.is_date, needed.number_format), (datetime(2024, 5, 20), True, "yyyy-mm-dd"))
        # 15:04:05Z is 10:04:05 in Bogotá; a time already in -05:00 stays as it is.
        self.assertEqual(sheet.cell(2, col["created_at"]).value, datetime(2024, 5, 1, 10, 4, 5))
        self.assertEqual(sheet.cell(3, col["created_at"]).value, datetime(2024, 5, 1, 23, 59))
        # A formula-looking title is a string cell, never a formula; "-5" stays text in a text column.
        injected = sheet.cell(3, col["title"])
        self.assertEqual((injected.value, injected.data_type), ('=HYPERLINK("http://x")', "s"))
        self.assertEqual((sheet.cell(3, col["status"]).value, sheet.cell(3, col["status"]).data_type), ("-5", "s"))
        self.assertEqual(sheet.cell(2, col["approved"]).value, "true")
        self.assertEqual(sheet.cell(4, col["extra"]).value, "línea\nnueva")
        self.assertIsNone(sheet.cell(4, col["amount"]).value)
        total_label, total = sheet.cell(5, 1), sheet.cell(5, col["amount"])
        self.assertEqual((total_label.value, total.value, total.data_type, total.number_format),
                         ("Total", 1480.5, "n", report_files.COP_FORMAT))
        self.assertEqual(sheet.max_row, 5)
        self.assertEqual(result["format"], "xlsx")
        self.assertEqual(self.template_data(self.templated()[0])["format"], "XLSX")

    def test_default_format_is_xlsx_and_a_report_without_amounts_has_no_total(self):
        event = request("audit", "2024-01-10", "2024-01-10")
        del event["format"]
        self.add(AUDIT, "audit/year=2024/month=01/day=10/req-b.jsonl", jsonl({"id": "e1", "action": "=1+1"}))

        self.invoke(event)

        sheet = self.workbook(self.put()["Body"])["Auditoría"]
        self.assertEqual([[c.value for c in row] for row in sheet.iter_rows()], [["id", "action"], ["e1", "=1+1"]])
        self.assertEqual(sheet.cell(2, 2).data_type, "s")

    def test_ten_thousand_rows_in_xlsx(self):
        rows = [{"id": f"OC-{i:05d}", "total": 1000 + i} for i in range(10_000)]
        self.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))

        self.invoke(request("orders", "2024-05-01", "2024-05-01", fmt="xlsx"))

        sheet = openpyxl.load_workbook(io.BytesIO(self.put()["Body"]), read_only=True)["Órdenes de compra"]
        values = list(sheet.values)
        self.assertEqual((len(values), values[1], values[-1]), (10_002, ("OC-00000", 1000), ("Total", 59_995_000)))


class PdfTest(ReportsTestBase):
    def pages(self, body):
        reader = pypdf.PdfReader(io.BytesIO(body))
        return [page.extract_text() for page in reader.pages]

    def test_title_range_page_numbers_and_totals(self):
        self.invoke(request(fmt="pdf"))

        put = self.put()
        self.assertEqual(put["ContentType"], "application/pdf")
        self.assertTrue(put["Body"].startswith(b"%PDF-"))
        (text,) = self.pages(put["Body"])
        for expected in ("Canalco — Requisiciones", "Del 2024-05-01 al 2024-05-02 · 3 filas", "Página 1",
                         "REQ-1", "$ 1.500,50", "-$ 20,00", "Total", "$ 1.480,50", "2024-05-01 10:04"):
            self.assertIn(expected, text)

    def test_ten_thousand_rows_span_pages_with_the_header_on_each(self):
        rows = [{"id": f"OC-{i:05d}", "total": 1000 + i, "supplier": f"Proveedor {i % 37}", "date": "2024-05-01"}
                for i in range(10_000)]
        self.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))

        result, _ = self.invoke(request("orders", "2024-05-01", "2024-05-01", fmt="pdf"))

        pages = self.pages(self.put()["Body"])
        self.assertEqual(result["rows"], 10_000)
        self.assertGreater(len(pages), 100)
        for number, text in enumerate(pages, start=1):
            self.assertRegex(text, r"id\s*date\s*supplier\s*total", f"page {number} has no header")
            self.assertIn(f"Página {number}", text)
        self.assertIn("OC-00000", pages[0])
        self.assertIn("OC-09999", pages[-1])
        self.assertIn("$ 59.995.000,00", pages[-1])  # sum of 1000..10999

    def test_long_text_is_cut_with_a_bounded_number_of_measurements(self):
        """Cutting a cell measures O(log n) prefixes, never one per character dropped."""
        rows = [{"id": f"A-{i}", "details": ("Descripción larga " * 60)[: 200 * (i + 1)]} for i in range(50)]
        self.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))
        measured = []
        real = pdfmetrics.stringWidth

        def counting(text, *args, **kwargs):
            measured.append(len(text))
            return real(text, *args, **kwargs)

        with mock.patch("reportlab.pdfbase.pdfmetrics.stringWidth", counting):
            self.invoke(request("orders", "2024-05-01", "2024-05-01", fmt="pdf"))

        (text,) = self.pages(self.put()["Body"])[:1]
        self.assertIn("Descripción larga Descripción", text)
        self.assertIn("…", text)
        # 100 cells (and the headers); the longest text is 10,000 characters.
        self.assertLess(len(measured), 100 * 2 * 15)
        self.assertLess(sum(measured), 100 * 10_000 / 4, "measured text grows with each cell's length")


class LimitsTest(ReportsTestBase):
    def test_a_range_beyond_the_formats_rows_is_refused_by_email_offering_what_fits(self):
        rows = [{"id": f"OC-{i}", "total": i} for i in range(30)]
        self.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))
        with mock.patch.dict(reports.MAX_ROWS, {"pdf": 25}):
            result, lines = self.invoke(request("orders", "2024-05-01", "2024-05-01", fmt="pdf"))

        error = "the range has more than 25 rows, the most a pdf report holds: ask for xlsx or csv, or a shorter range"
        self.assertEqual(result, {"ok": False, "error": error})
        self.assertEqual(self.aws.to("PutObject") + self.aws.to("AssumeRole") + self.templated(), [])
        ((to, subject, text),) = self.plain_emails()
        self.assertEqual((to, subject), (["ana@canalco.co"], "El reporte Órdenes de compra no se generó"))
        self.assertIn(error, text)
        self.assertNotIn("ReportsGenerated", metrics(lines))

    def test_the_limits_are_the_formats_own(self):
        self.assertEqual(reports.MAX_ROWS["xlsx"], 1_048_576 - 2)  # a sheet's rows less header and total
        self.assertLessEqual(reports.MAX_ROWS["pdf"], 10_000)


class ArchivedDataTest(ReportsTestBase):
    """Objects in GLACIER or DEEP_ARCHIVE are skipped and counted, never a failed report."""

    def test_archived_objects_are_skipped_and_counted_in_the_email(self):
        old = "exports/orders/year=2023/month=01/day=0{}/part-0.jsonl"
        self.add(REPORTS, old.format(1), jsonl({"id": "OC-A", "total": 1}), StorageClass="GLACIER")
        self.add(REPORTS, old.format(2), jsonl({"id": "OC-B", "total": 2}), StorageClass="DEEP_ARCHIVE")
        self.add(REPORTS, old.format(3), jsonl({"id": "OC-C", "total": 3}), StorageClass="GLACIER_IR")
        self.aws.clear()

        result, lines = self.invoke(request("orders", "2023-01-01", "2023-01-03", fmt="xlsx"))

        self.assertEqual((result["ok"], result["rows"], result["archived_files"]), (True, 1, 2))
        self.assertEqual([c["Key"] for c in self.aws.to("GetObject")][:1], [old.format(3)])
        self.assertEqual(self.template_data(self.templated()[0])["archived"], 2)
        (mail,) = self.ses.delivered
        self.assertIn("2 archivos de datos archivados (Glacier) no se incluyeron.", mail["text"])
        skipped = [line["key"] for line in lines if line.get("message") == "archived file skipped"]
        self.assertEqual(skipped, [old.format(1), old.format(2)])

    def test_an_object_archived_after_the_listing_is_skipped_too(self):
        fail(self.s3, "GetObject", "InvalidObjectState", when=lambda call: "day=01" in call["Key"], status=403)

        result, _ = self.invoke(request())

        self.assertEqual((result["rows"], result["archived_files"]), (1, 1))


class FailureTest(ReportsTestBase):
    def test_a_failure_on_a_direct_invoke_is_raised_and_emailed_to_the_requester(self):
        fail(self.s3, "GetObject")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.invoke(request())

        ((to, subject, text),) = self.plain_emails()
        self.assertEqual((to, subject), (["ana@canalco.co"], "El reporte Requisiciones falló"))
        self.assertIn("invocación directa", text)
        self.assertEqual(self.aws.to("PutObject"), [])

    def test_a_failed_send_is_raised(self):
        self.ses.fail_when["SendEmail"] = lambda call: True
        with self.assertRaises(botocore.exceptions.ClientError):
            self.invoke(request())


class LinkTest(ReportsTestBase):
    def link(self, result):
        parts = urlsplit(result["url"])
        return parts, {k: v[0] for k, v in parse_qs(parts.query).items()}

    def issue_credentials_at(self, issued):
        """STS's clock: the credentials expire DurationSeconds after `issued`."""
        def shift(parsed, params=None, **_):
            parsed["Credentials"]["Expiration"] = issued + timedelta(seconds=self.aws.to("AssumeRole")[-1]["DurationSeconds"])
        self.sts.meta.events.register("after-call.sts.AssumeRole", shift)

    def test_the_link_is_signed_by_the_download_role_and_lives_as_long_as_the_email_says(self):
        # botocore signs at the wall clock's time: so does everything in this test.
        now = datetime.now(timezone.utc)
        result, _ = self.invoke(request(), now=now)

        (assume,) = self.aws.to("AssumeRole")
        self.assertEqual(assume["RoleArn"], ROLE_ARN)
        self.assertEqual(assume["DurationSeconds"], 3600)
        self.assertRegex(assume["RoleSessionName"], r"^report-link-[0-9a-f]{16}$")
        parts, query = self.link(result)
        self.assertEqual(parts.path, "/" + self.aws.to("PutObject")[0]["Key"])
        self.assertEqual(query["X-Amz-Expires"], "3600")
        credentials = self.signed_with[0]
        self.assertTrue(query["X-Amz-Credential"].startswith(credentials["AccessKeyId"] + "/"))
        self.assertEqual(query["X-Amz-Security-Token"], credentials["SessionToken"])
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        link_dies = min(signed + timedelta(seconds=int(query["X-Amz-Expires"])), credentials["Expiration"])
        promised = datetime.fromisoformat(result["expires"])
        self.assertLessEqual(promised, link_dies)
        self.assertLess(link_dies - promised, timedelta(seconds=60))
        local = promised.astimezone(timezone(timedelta(hours=-5)))
        self.assertEqual(self.template_data(self.templated()[0])["expires"], f"{local:%Y-%m-%d %H:%M} (hora de Bogotá)")

    def test_a_longer_setting_is_capped_at_what_the_credentials_allow(self):
        self.issue_credentials_at(NOW)
        for setting, expires in [("999999", 3600), ("1800", 1800)]:
            with self.subTest(setting=setting):
                os.environ["LINK_TTL_SECONDS"] = setting
                result, _ = self.invoke(request())
                self.assertEqual(self.aws.to("AssumeRole")[-1]["DurationSeconds"], expires)
                self.assertEqual(self.link(result)[1]["X-Amz-Expires"], str(expires))

    def test_credentials_that_expire_sooner_shorten_the_link(self):
        self.issue_credentials_at(NOW - timedelta(minutes=50))

        result, _ = self.invoke(request())

        self.assertEqual(self.link(result)[1]["X-Amz-Expires"], "600")
        self.assertEqual(result["expires"], "2024-06-05T19:40:00+00:00")

    def test_a_link_that_would_die_at_once_fails_the_report(self):
        self.issue_credentials_at(NOW - timedelta(minutes=59, seconds=30))
        with self.assertRaisesRegex(RuntimeError, "expire in 30 s"):
            self.invoke(request())
        self.assertEqual(self.templated(), [])


class ScheduleTest(ReportsTestBase):
    def scheduled(self, **extra):
        return {"source": "canalco.schedule", "type": "report.scheduled", "report": "orders", "format": "pdf",
                "days": 7, "recipients": ["gerencia@canalco.co", "compras@canalco.co"], **extra}

    def test_the_weekly_report_covers_the_last_seven_bogota_days_and_is_attached_for_each_recipient(self):
        # 03:00 UTC on Monday 2024-06-10 is still Sunday 2024-06-09 in Bogotá.
        now = datetime(2024, 6, 10, 3, 0, tzinfo=timezone.utc)
        self.add(REPORTS, "exports/orders/year=2024/month=06/day=08/part-0.jsonl", jsonl({"id": "OC-9", "total": 5}))
        result, lines = self.invoke(self.scheduled(), now=now)

        self.assertEqual((result["from"], result["to"], result["format"], result["rows"]), ("2024-06-02", "2024-06-08", "pdf", 1))
        # Attached: nothing to download, so no object, no role, no link that dies in an hour.
        self.assertEqual(self.aws.to("PutObject") + self.aws.to("AssumeRole"), [])
        raws = [m for m in self.sent_emails() if hasattr(m, "raw_data")]
        # moto lists the envelope recipient and the To header; SES sends to the envelope's.
        self.assertEqual([set(m.destinations) for m in raws], [{"gerencia@canalco.co"}, {"compras@canalco.co"}])
        message = email.message_from_string(raws[0].raw_data, policy=email.policy.default)
        self.assertEqual(message["Subject"], "Reporte Órdenes de compra (PDF) del 2024-06-02 al 2024-06-08")
        (attachment,) = [part for part in message.walk() if part.get_filename()]
        self.assertEqual(attachment.get_filename(), "orders_2024-06-02_2024-06-08.pdf")
        self.assertEqual(attachment.get_content_type(), "application/pdf")
        self.assertTrue(attachment.get_payload(decode=True).startswith(b"%PDF-"))
        self.assertEqual(metrics(lines)["EmailsSent"], 2)

    def test_a_file_too_large_to_attach_is_refused_to_the_recipients(self):
        with mock.patch.object(reports, "ATTACHMENT_MAX_BYTES", 100):
            result, _ = self.invoke(self.scheduled(format="xlsx"))

        self.assertFalse(result["ok"])
        self.assertIn("more than the 0 MB", result["error"])
        self.assertEqual([to for to, _, _ in self.plain_emails()], [["gerencia@canalco.co"], ["compras@canalco.co"]])
        self.assertEqual([m for m in self.sent_emails() if hasattr(m, "raw_data")], [])

    def test_invalid_schedule_input_is_answered(self):
        cases = [
            (self.scheduled(days=0), "'days' is not a whole number of days from 1 to 366"),
            (self.scheduled(days=True), "'days' is not a whole number of days from 1 to 366"),
            (self.scheduled(recipients=[]), "'recipients' is not a list of 1 to 50 e-mail addresses"),
            (self.scheduled(recipients=["x"]), "'recipients' is not a valid e-mail address"),
            (self.scheduled(format="docx"), "unknown format 'docx', expected one of xlsx, pdf, csv"),
        ]
        for event, error in cases:
            with self.subTest(error=error):
                self.assertEqual(self.invoke(event)[0], {"ok": False, "error": error})
        self.assertEqual([c for c in self.aws.calls if c[0] == "s3"], [])


class RequestTest(ReportsTestBase):
    def test_invalid_requests_are_refused_by_email_without_side_effects(self):
        cases = [
            (request("inventory"), "unknown report 'inventory', expected one of requisitions, orders, audit"),
            (request(start="2024-5-1"), "'from' is not a YYYY-MM-DD date"),
            (request(end="2024-02-30"), "'to' is not a YYYY-MM-DD date"),
            (request(start=None), "'from' is not a YYYY-MM-DD date"),
            (request(start="2024-05-03"), "'from' is after 'to'"),
            (request(start="2024-01-01", end="2025-01-01"), "range is longer than 366 days"),
            (request(fmt="docx"), "unknown format 'docx', expected one of xlsx, pdf, csv"),
        ]
        for event, error in cases:
            with self.subTest(error=error):
                result, _ = self.invoke(event)
                self.assertEqual(result, {"ok": False, "error": error})
                self.assertIn(error, self.plain_emails()[-1][2])
        self.assertEqual(len(self.plain_emails()), len(cases))
        self.assertEqual([c for c in self.aws.calls if c[0] in ("s3", "sts")], [])

    def test_requests_without_a_valid_recipient_are_only_logged(self):
        cases = [
            (request(requested_by="ana"), "'requested_by' is not a valid e-mail address"),
            (request(requested_by="ana@canalco.co\nBcc: x@y.co"), "'requested_by' is not a valid e-mail address"),
            ("[]", "request is not a JSON object"),
        ]
        for event, error in cases:
            with self.subTest(error=error):
                result, lines = self.invoke(event)
                self.assertEqual(result, {"ok": False, "error": error})
                self.assertEqual([line["error"] for line in lines if line.get("message") == "report request refused"], [error])
        self.assertEqual(list(self.sent_emails()), [])

    def test_a_366_day_range_is_one_listing(self):
        result, _ = self.invoke(request(start="2024-01-01", end="2024-12-31"))

        self.assertTrue(result["ok"])
        self.assertEqual(len(self.aws.to("ListObjectsV2")), 1)


class SqsTest(ReportsTestBase):
    def test_only_the_failing_message_is_retried_and_invalid_ones_are_refused(self):
        self.ses.fail_when["SendEmail"] = lambda call: call["Destination"]["ToAddresses"] == ["falla@canalco.co"]

        result, lines = self.sqs(
            request("orders", "2024-05-01", "2024-05-01", requested_by="compras@canalco.co"),
            "{not json",
            request("inventory"),
            request(requested_by="falla@canalco.co"),
            request(requested_by="luis@canalco.co", fmt="pdf"),
            {"report": "orders"},
        )

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m3"}]})
        sent = [call["Destination"]["ToAddresses"] for call in self.templated()]
        self.assertEqual(sent, [["compras@canalco.co"], ["falla@canalco.co"], ["luis@canalco.co"]])
        refused = [line["message_id"] for line in lines if line.get("message") == "report request refused"]
        self.assertEqual(refused, ["m1", "m2", "m5"])
        self.assertEqual([to for to, _, _ in self.plain_emails()], [["ana@canalco.co"]])  # m2's requester
        self.assertEqual(metrics(lines)["ReportsGenerated"], 2)
        self.assertEqual(metrics(lines)["EmailsSent"], 2)

    def test_s3_failure_reports_that_message_and_emails_only_on_the_last_receive(self):
        fail(self.s3, "PutObject", when=lambda call: "/orders/" in call["Key"])

        result, _ = self.sqs(request(), request("orders"))
        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}]})
        self.assertEqual(self.plain_emails(), [])

        result, _ = self.sqs(request("orders"), receives=5)
        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m0"}]})
        ((to, subject, text),) = self.plain_emails()
        self.assertEqual((to, subject), (["ana@canalco.co"], "El reporte Órdenes de compra falló"))
        self.assertIn("referencia m0", text)

    def test_missing_audit_bucket_fails_the_audit_message_only(self):
        del os.environ["AUDIT_BUCKET"]

        result, lines = self.sqs(request("audit"), request())

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m0"}]})
        (error,) = [line for line in lines if line.get("level") == "ERROR"]
        self.assertEqual(error["error"], "RuntimeError: AUDIT_BUCKET is not set")


class QueueFlowTest(ReportsTestBase):
    """The reports queue as Lambda's event source mapping drives it, on moto's SQS with the
    stack's redrive policy (5 receives, serverless/queues.go): a report that keeps failing is
    redelivered, its requester is told on the last delivery only, and it ends in the DLQ."""

    def test_a_failing_report_is_retried_then_emailed_once_and_dead_lettered(self):
        sqs = self.client("sqs")
        dlq = sqs.create_queue(QueueName="canalco-dev-reports-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(QueueName="canalco-dev-reports", Attributes={
            "VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(request("orders")))
        fail(self.s3, "PutObject")  # S3 refuses every upload of the report

        failures = []
        for _ in range(6):  # the sixth receive finds the message gone to the DLQ
            messages = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
            if not messages:
                break
            records = [{"messageId": m["MessageId"], "body": m["Body"], "attributes": m["Attributes"]} for m in messages]
            result, _ = self.invoke({"Records": records})
            failures.append(int(records[0]["attributes"]["ApproximateReceiveCount"]))
            for m in messages:  # Lambda deletes what the batch did not report failed
                if {"itemIdentifier": m["MessageId"]} not in result["batchItemFailures"]:
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

        self.assertEqual(failures, [1, 2, 3, 4, 5])
        ((to, subject, text),) = self.plain_emails()
        self.assertEqual((to, subject), (["ana@canalco.co"], "El reporte Órdenes de compra falló"))
        (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
        self.assertEqual(json.loads(dead["Body"])["report"], "orders")
        self.assertIn(dead["MessageId"], text)


class ColumnTypesTest(unittest.TestCase):
    def test_kinds(self):
        cases = [
            ("total", [1, 2.5, None], "amount"),
            ("qty", [1, 2], "number"),
            ("flag", [True, 1], "text"),
            ("day", ["2024-01-31", ""], "date"),
            ("day", ["2024-02-30"], "text"),
            ("at", ["2024-01-31T10:00:00Z", "2024-01-31 10:00"], "datetime"),
            ("mixed", ["2024-01-31", 3], "text"),
            ("empty", [None], "text"),
        ]
        for name, values, kind in cases:
            with self.subTest(name=name, values=values):
                profile = report_files.Profile({name: v} for v in values)
                self.assertEqual(profile.columns()[0].kind, kind)
                self.assertEqual(profile.count, len(values))


    def test_date_times_are_shown_in_the_stacks_time_zone(self):
        # canalco:timezone reaches the function as TIMEZONE; the cells follow it, DST included.
        cases = [("America/Bogota", datetime(2024, 7, 1, 7, 0)), ("Europe/Madrid", datetime(2024, 7, 1, 14, 0))]
        for zone, shown in cases:
            with self.subTest(zone=zone), mock.patch.dict(os.environ, {"TIMEZONE": zone}):
                self.assertEqual(report_files._datetime("2024-07-01T12:00:00Z"), shown)

if __name__ == "__main__":
    unittest.main()
