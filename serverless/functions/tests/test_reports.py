import contextlib
import io
import json
import os
import types
import unittest
from datetime import date, datetime, timedelta, timezone
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import botocore.session
import openpyxl
import pypdf
from botocore.config import Config

from tests.fakes import FakeClientError, FakeContext, FakeS3, FakeSESv2, FakeSTS, load_handler, metrics

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
}
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# 2024-06-05 14:30 in Bogotá.
NOW = datetime(2024, 6, 5, 19, 30, tzinfo=timezone.utc)


def request(report="requisitions", start="2024-05-01", end="2024-05-02", requested_by="ana@canalco.co", fmt="csv", **extra):
    return {"report": report, "from": start, "to": end, "requested_by": requested_by, "format": fmt, **extra}


def jsonl(*rows):
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


class RealSigner:
    """botocore's own S3 client signs the link (offline: presigning makes no request)."""

    def __init__(self):
        self.credentials = []

    def __call__(self, credentials):
        self.credentials.append(credentials)
        return botocore.session.get_session().create_client(
            "s3", region_name="us-east-1", config=Config(signature_version="s3v4"),
            aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


class ReportsTestBase(unittest.TestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, ENV, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.s3 = FakeS3()
        self.ses = FakeSESv2()
        self.sts = FakeSTS(now=lambda: NOW)
        self.signer = RealSigner()
        self.clients = types.SimpleNamespace(s3=self.s3, sesv2=self.ses, sts=self.sts, signer=self.signer)
        self.addCleanup(self.assert_every_email_rendered)
        day1 = "exports/requisitions/year=2024/month=05/day=01/"
        self.s3.add(REPORTS, day1 + "part-0.jsonl", jsonl(
            {"id": "REQ-1", "title": "Cable, 12 AWG", "amount": 1500.5, "requester": "ana@canalco.co",
             "items": [{"sku": "C12", "qty": 3}], "approved": True, "needed_on": "2024-05-20",
             "created_at": "2024-05-01T15:04:05Z"},
            {"id": "REQ-2", "title": '=HYPERLINK("http://x")', "amount": -20, "note": None, "status": "-5",
             "needed_on": "2024-06-01", "created_at": "2024-05-01T23:59:00-05:00"},
        ) + b"\nnot json\n[1, 2]\n")
        day2 = "exports/requisitions/year=2024/month=05/day=02/"
        self.s3.add(REPORTS, day2 + "part-0.jsonl", jsonl({"title": 'Tubería "PVC"', "id": "REQ-3", "extra": "línea\nnueva"}))
        self.s3.add(REPORTS, day2 + "_SUCCESS", b"")
        self.s3.add(REPORTS, "exports/requisitions/year=2024/month=05/day=03/part-0.jsonl", jsonl({"id": "REQ-4"}))
        self.s3.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl({"id": "OC-1", "total": 10}))

    def invoke(self, event, now=NOW):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = reports.handler(event, FakeContext(), clients=self.clients, now=now)
        return result, [json.loads(line) for line in out.getvalue().splitlines()]

    def sqs(self, *bodies):
        return self.invoke({"Records": [
            {"messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body)}
            for i, body in enumerate(bodies)
        ]})

    def put(self):
        (put,) = self.s3.calls_to("PutObject")
        return put

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
        self.assertEqual({k: v for k, v in put.items() if k not in ("Key", "Body")}, {
            "Bucket": REPORTS,
            "ContentType": "text/csv; charset=utf-8",
            "ContentDisposition": 'attachment; filename="requisitions_2024-05-01_2024-05-02.csv"',
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KMS_KEY_ARN,
        })
        self.assertEqual([call["Key"] for call in self.s3.calls_to("GetObject")], [
            "exports/requisitions/year=2024/month=05/day=01/part-0.jsonl",
            "exports/requisitions/year=2024/month=05/day=02/part-0.jsonl",
        ])
        (email,) = self.ses.calls_to("SendEmail")
        self.assertEqual({k: v for k, v in email.items() if k != "Content"}, {
            "FromEmailAddress": "no-reply@canalco.example",
            "Destination": {"ToAddresses": ["ana@canalco.co"]},
            "ConfigurationSetName": "canalco-dev",
        })
        self.assertEqual(email["Content"]["Template"]["TemplateName"], "canalco-dev-reporte-generado")
        data = self.template_data(email)
        self.assertEqual({k: v for k, v in data.items() if k != "url"}, {
            "report": "Requisiciones", "format": "CSV", "from": "2024-05-01", "to": "2024-05-02", "rows": 3,
            "expires": "2024-06-05 15:30 (hora de Bogotá)", "archived": 0,
        })
        self.assertEqual(set(data), set(reports.TEMPLATE_FIELDS[reports.TEMPLATE]))
        self.assertEqual(result["url"], data["url"])
        (mail,) = self.ses.delivered
        self.assertEqual(mail["subject"], "Reporte Requisiciones (CSV) del 2024-05-01 al 2024-05-02")
        self.assertIn(f'href="{data["url"]}"', mail["html"])
        self.assertIn("2024-06-05 15:30 (hora de Bogotá)", mail["text"])
        self.assertNotIn("archivados", mail["text"])
        self.assertEqual((result["rows"], result["format"], result["expires"]), (3, "csv", "2024-06-05T20:30:00+00:00"))
        self.assertEqual(metrics(lines), {
            "ReportsGenerated": 1, "EmailsSent": 1, "_namespace": "Canalco/Business", "_environment": "dev",
        })
        (warning,) = [line for line in lines if line.get("level") == "WARNING"]
        self.assertEqual(warning["lines"], 2)

    def test_audit_report_reads_live_and_archived_partitions_only(self):
        self.s3.add(AUDIT, "audit/archive/year=2024/month=01/day=09/req-a.jsonl", jsonl({"id": "e0", "action": "a"}),
                    StorageClass="GLACIER_IR")
        self.s3.add(AUDIT, "audit/year=2024/month=01/day=10/req-b.jsonl", jsonl({"id": "e1", "action": "b"}))
        self.s3.add(AUDIT, "audit/rejected/year=2024/month=01/day=10/req-b.jsonl", jsonl({"reason": "bad"}))
        self.s3.add(AUDIT, "audit/year=2024/month=01/day=11/req-c.jsonl", jsonl({"id": "e2", "action": "c"}))

        result, _ = self.invoke(request("audit", "2024-01-09", "2024-01-10"))

        self.assertEqual(result["rows"], 2)
        put = self.put()
        self.assertEqual(put["Bucket"], REPORTS)
        self.assertRegex(put["Key"], f"^reports/audit/2024-01-09_2024-01-10/{UUID}\\.csv$")
        self.assertEqual(put["Body"], "\ufeffid,action\r\ne0,a\r\ne1,b\r\n".encode("utf-8"))

    def test_empty_range_still_produces_and_sends_an_empty_report(self):
        del os.environ["KMS_KEY_ARN"]
        result, _ = self.invoke(request("orders", "2023-01-01", "2023-01-01"))

        put = self.put()
        self.assertEqual(put["Body"], b"\xef\xbb\xbf")
        self.assertNotIn("ServerSideEncryption", put)
        self.assertEqual(result["rows"], 0)
        self.assertEqual(len(self.ses.calls_to("SendEmail")), 1)


class XlsxTest(ReportsTestBase):
    def workbook(self, body):
        return openpyxl.load_workbook(io.BytesIO(body))

    def test_typed_columns_header_panes_filter_and_totals(self):
        result, _ = self.invoke(request(fmt="xlsx"))

        put = self.put()
        self.assertRegex(put["Key"], f"\\.xlsx$")
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
        self.assertEqual(self.template_data(self.ses.calls_to("SendEmail")[0])["format"], "XLSX")

    def test_default_format_is_xlsx_and_a_report_without_amounts_has_no_total(self):
        event = request("audit", "2024-01-10", "2024-01-10")
        del event["format"]
        self.s3.add(AUDIT, "audit/year=2024/month=01/day=10/req-b.jsonl", jsonl({"id": "e1", "action": "=1+1"}))

        self.invoke(event)

        sheet = self.workbook(self.put()["Body"])["Auditoría"]
        self.assertEqual([[c.value for c in row] for row in sheet.iter_rows()], [["id", "action"], ["e1", "=1+1"]])
        self.assertEqual(sheet.cell(2, 2).data_type, "s")


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
        self.s3.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))

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

    def test_ten_thousand_rows_in_xlsx(self):
        rows = [{"id": f"OC-{i:05d}", "total": 1000 + i} for i in range(10_000)]
        self.s3.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl(*rows))

        self.invoke(request("orders", "2024-05-01", "2024-05-01", fmt="xlsx"))

        sheet = openpyxl.load_workbook(io.BytesIO(self.put()["Body"]), read_only=True)["Órdenes de compra"]
        values = list(sheet.values)
        self.assertEqual((len(values), values[1], values[-1]), (10_002, ("OC-00000", 1000), ("Total", 59_995_000)))


class ArchivedDataTest(ReportsTestBase):
    """Objects in GLACIER or DEEP_ARCHIVE are skipped and counted, never a failed report."""

    def test_archived_objects_are_skipped_and_counted_in_the_email(self):
        old = "exports/orders/year=2023/month=01/day=0{}/part-0.jsonl"
        self.s3.add(REPORTS, old.format(1), jsonl({"id": "OC-A", "total": 1}), StorageClass="GLACIER")
        self.s3.add(REPORTS, old.format(2), jsonl({"id": "OC-B", "total": 2}), StorageClass="DEEP_ARCHIVE")
        self.s3.add(REPORTS, old.format(3), jsonl({"id": "OC-C", "total": 3}), StorageClass="GLACIER_IR")

        result, lines = self.invoke(request("orders", "2023-01-01", "2023-01-03", fmt="xlsx"))

        self.assertEqual((result["ok"], result["rows"], result["archived_files"]), (True, 1, 2))
        self.assertEqual([c["Key"] for c in self.s3.calls_to("GetObject")], [old.format(3)])
        self.assertEqual(self.template_data(self.ses.calls_to("SendEmail")[0])["archived"], 2)
        (mail,) = self.ses.delivered
        self.assertIn("2 archivos de datos archivados (Glacier) no se incluyeron.", mail["text"])
        skipped = [line["key"] for line in lines if line.get("message") == "archived file skipped"]
        self.assertEqual(skipped, [old.format(1), old.format(2)])

    def test_an_object_archived_after_the_listing_is_skipped_too(self):
        self.s3.fail_when["GetObject"] = lambda call: "day=01" in call["Key"]
        self.s3.fail_code["GetObject"] = "InvalidObjectState"

        result, _ = self.invoke(request())

        self.assertEqual((result["rows"], result["archived_files"]), (1, 1))

    def test_other_read_errors_still_fail(self):
        self.s3.fail_when["GetObject"] = lambda call: True
        with self.assertRaises(FakeClientError):
            self.invoke(request())


class LinkTest(ReportsTestBase):
    def link(self, result):
        parts = urlsplit(result["url"])
        return parts, {k: v[0] for k, v in parse_qs(parts.query).items()}

    def test_the_link_is_signed_by_the_download_role_and_lives_as_long_as_the_email_says(self):
        # botocore signs at the wall clock's time: so does everything in this test.
        now = datetime.now(timezone.utc)
        self.sts.now = lambda: now
        result, _ = self.invoke(request(), now=now)

        (assume,) = self.sts.calls_to("AssumeRole")
        self.assertEqual(assume["RoleArn"], ROLE_ARN)
        self.assertEqual(assume["DurationSeconds"], 3600)
        self.assertRegex(assume["RoleSessionName"], r"^report-link-[0-9a-f]{16}$")
        parts, query = self.link(result)
        self.assertEqual(parts.path, "/" + self.put()["Key"])
        self.assertEqual(query["X-Amz-Expires"], "3600")
        self.assertTrue(query["X-Amz-Credential"].startswith(self.signer.credentials[0]["AccessKeyId"] + "/"))
        self.assertEqual(query["X-Amz-Security-Token"], self.signer.credentials[0]["SessionToken"])
        # The link works until the earlier of its signature's expiry and its credentials' expiry;
        # the promise is no later than either, and the email shows it (to the minute, rounded down).
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        link_dies = min(signed + timedelta(seconds=int(query["X-Amz-Expires"])), self.signer.credentials[0]["Expiration"])
        promised = datetime.fromisoformat(result["expires"])
        self.assertLessEqual(promised, link_dies)
        self.assertLess(link_dies - promised, timedelta(seconds=60))
        local = promised.astimezone(timezone(timedelta(hours=-5)))
        self.assertEqual(self.template_data(self.ses.calls_to("SendEmail")[0])["expires"], f"{local:%Y-%m-%d %H:%M} (hora de Bogotá)")

    def test_a_longer_setting_is_capped_at_what_the_credentials_allow(self):
        cases = [("999999", 3600, 3600), ("1800", 1800, 1800)]
        for setting, duration, expires in cases:
            with self.subTest(setting=setting):
                os.environ["LINK_TTL_SECONDS"] = setting
                self.sts.calls.clear()
                result, _ = self.invoke(request())
                self.assertEqual(self.sts.calls_to("AssumeRole")[0]["DurationSeconds"], duration)
                self.assertEqual(self.link(result)[1]["X-Amz-Expires"], str(expires))

    def test_credentials_that_expire_sooner_shorten_the_link(self):
        self.sts.now = lambda: NOW - timedelta(minutes=50)  # STS's clock: issued 50 minutes "ago"

        result, _ = self.invoke(request())

        self.assertEqual(self.link(result)[1]["X-Amz-Expires"], "600")
        self.assertEqual(result["expires"], "2024-06-05T19:40:00+00:00")

    def test_a_link_that_would_die_at_once_fails_the_report(self):
        self.sts.now = lambda: NOW - timedelta(minutes=59, seconds=30)
        with self.assertRaisesRegex(RuntimeError, "expire in 30 s"):
            self.invoke(request())
        self.assertEqual(self.ses.calls_to("SendEmail"), [])


class ScheduleTest(ReportsTestBase):
    def scheduled(self, **extra):
        return {"source": "canalco.schedule", "type": "report.scheduled", "report": "orders", "format": "pdf",
                "days": 7, "recipients": ["gerencia@canalco.co", "compras@canalco.co"], **extra}

    def test_the_weekly_report_covers_the_last_seven_days_in_bogota_and_mails_each_recipient(self):
        # 03:00 UTC on Monday 2024-06-10 is still Sunday 2024-06-09 in Bogotá.
        now = datetime(2024, 6, 10, 3, 0, tzinfo=timezone.utc)
        self.sts.now = lambda: now
        result, lines = self.invoke(self.scheduled(), now=now)

        self.assertEqual((result["from"], result["to"], result["format"]), ("2024-06-02", "2024-06-08", "pdf"))
        self.assertRegex(self.put()["Key"], f"^reports/orders/2024-06-02_2024-06-08/{UUID}\\.pdf$")
        sent = [call["Destination"]["ToAddresses"] for call in self.ses.calls_to("SendEmail")]
        self.assertEqual(sent, [["gerencia@canalco.co"], ["compras@canalco.co"]])
        self.assertEqual(len(self.sts.calls_to("AssumeRole")), 1)
        self.assertEqual(metrics(lines)["EmailsSent"], 2)

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
        self.assertEqual(self.s3.calls + self.ses.calls, [])


class RequestTest(ReportsTestBase):
    def test_invalid_requests_are_answered_without_side_effects(self):
        cases = [
            (request("inventory"), "unknown report 'inventory', expected one of requisitions, orders, audit"),
            (request(start="2024-5-1"), "'from' is not a YYYY-MM-DD date"),
            (request(end="2024-02-30"), "'to' is not a YYYY-MM-DD date"),
            (request(start=None), "'from' is not a YYYY-MM-DD date"),
            (request(start="2024-05-03"), "'from' is after 'to'"),
            (request(start="2024-01-01", end="2025-01-01"), "range is longer than 366 days"),
            (request(requested_by="ana"), "'requested_by' is not a valid e-mail address"),
            (request(requested_by="ana@canalco.co\nBcc: x@y.co"), "'requested_by' is not a valid e-mail address"),
            (request(fmt="docx"), "unknown format 'docx', expected one of xlsx, pdf, csv"),
            ("[]", "request is not a JSON object"),
        ]
        for event, error in cases:
            with self.subTest(error=error):
                result, _ = self.invoke(event)
                self.assertEqual(result, {"ok": False, "error": error})
        self.assertEqual(self.s3.calls + self.ses.calls + self.sts.calls, [])

    def test_a_366_day_range_is_accepted(self):
        result, _ = self.invoke(request(start="2024-01-01", end="2024-12-31"))

        self.assertTrue(result["ok"])
        self.assertEqual(len(self.s3.calls_to("ListObjectsV2")), 366)

    def test_transient_errors_are_raised_to_the_caller(self):
        self.ses.fail_when["SendEmail"] = lambda call: True
        with self.assertRaises(FakeClientError):
            self.invoke(request())


class SqsTest(ReportsTestBase):
    def test_only_the_failing_message_is_retried_and_invalid_ones_are_dropped(self):
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
        sent = [call["Destination"]["ToAddresses"] for call in self.ses.calls_to("SendEmail")]
        self.assertEqual(sent, [["compras@canalco.co"], ["falla@canalco.co"], ["luis@canalco.co"]])
        dropped = [line["message_id"] for line in lines if line.get("message") == "invalid report request dropped"]
        self.assertEqual(dropped, ["m1", "m2", "m5"])
        self.assertEqual(metrics(lines)["ReportsGenerated"], 2)
        self.assertEqual(metrics(lines)["EmailsSent"], 2)

    def test_s3_failure_reports_that_message(self):
        self.s3.fail_when["PutObject"] = lambda call: "/orders/" in call["Key"]

        result, _ = self.sqs(request(), request("orders"))

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}]})
        self.assertEqual(len(self.ses.calls_to("SendEmail")), 1)

    def test_missing_audit_bucket_fails_the_audit_message_only(self):
        del os.environ["AUDIT_BUCKET"]

        result, lines = self.sqs(request("audit"), request())

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m0"}]})
        (error,) = [line for line in lines if line.get("level") == "ERROR"]
        self.assertEqual(error["error"], "RuntimeError: AUDIT_BUCKET is not set")


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
                rows = [{name: v} for v in values]
                report = report_files.Report("orders", date(2024, 1, 1), date(2024, 1, 1), rows, NOW)
                self.assertEqual(report.columns()[0].kind, kind)


if __name__ == "__main__":
    unittest.main()
