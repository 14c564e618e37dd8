import json
import os
import types
import unittest
from unittest import mock

from tests.fakes import FakeClientError, FakeContext, FakeS3, FakeSESv2, load_handler, metrics, run

reports = load_handler("reports")

REPORTS = "canalco-dev-reportes-123456789012-us-east-1"
AUDIT = "canalco-dev-auditoria-123456789012-us-east-1"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = {
    "REPORTS_BUCKET": REPORTS,
    "AUDIT_BUCKET": AUDIT,
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "SENDER": "no-reply@canalco.example",
    "CONFIGURATION_SET": "canalco-dev",
    "TEMPLATE_PREFIX": "canalco-dev-",
    "ENVIRONMENT": "dev",
}
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def request(report="requisitions", start="2024-05-01", end="2024-05-02", requested_by="ana@canalco.co", **extra):
    return {"report": report, "from": start, "to": end, "requested_by": requested_by, "format": "csv", **extra}


def jsonl(*rows):
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


class ReportsTestBase(unittest.TestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, ENV, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.s3 = FakeS3()
        self.ses = FakeSESv2()
        self.clients = types.SimpleNamespace(s3=self.s3, sesv2=self.ses)
        day1 = "exports/requisitions/year=2024/month=05/day=01/"
        self.s3.add(REPORTS, day1 + "part-0.jsonl", jsonl(
            {"id": "REQ-1", "title": "Cable, 12 AWG", "amount": 1500.5, "requester": "ana@canalco.co",
             "items": [{"sku": "C12", "qty": 3}], "approved": True},
            {"id": "REQ-2", "title": '=HYPERLINK("http://x")', "amount": -20, "note": None, "status": "-5"},
        ) + b"\nnot json\n[1, 2]\n")
        day2 = "exports/requisitions/year=2024/month=05/day=02/"
        self.s3.add(REPORTS, day2 + "part-0.jsonl", jsonl({"title": 'Tubería "PVC"', "id": "REQ-3", "extra": "línea\nnueva"}))
        self.s3.add(REPORTS, day2 + "_SUCCESS", b"")
        self.s3.add(REPORTS, "exports/requisitions/year=2024/month=05/day=03/part-0.jsonl", jsonl({"id": "REQ-4"}))
        self.s3.add(REPORTS, "exports/orders/year=2024/month=05/day=01/part-0.jsonl", jsonl({"id": "OC-1", "total": 10}))

    def invoke(self, event):
        return run(reports, event, FakeContext(), self.clients)

    def sqs(self, *bodies):
        return self.invoke({"Records": [
            {"messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body)}
            for i, body in enumerate(bodies)
        ]})

    def csv_text(self, put_call):
        body = put_call["Body"]
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM")
        return body[3:].decode("utf-8")


class DirectInvokeTest(ReportsTestBase):
    def test_builds_the_csv_uploads_it_and_emails_a_presigned_link(self):
        result, lines = self.invoke(request())

        (put,) = self.s3.calls_to("PutObject")
        self.assertRegex(put["Key"], f"^reports/requisitions/2024-05-01_2024-05-02/{UUID}\\.csv$")
        self.assertEqual(self.csv_text(put), (
            "id,amount,approved,extra,items,note,requester,status,title\r\n"
            'REQ-1,1500.5,true,,"[{""qty"":3,""sku"":""C12""}]",,ana@canalco.co,,"Cable, 12 AWG"\r\n'
            "REQ-2,-20,,,,,,-5,\"'=HYPERLINK(\"\"http://x\"\")\"\r\n"
            'REQ-3,,,"línea\nnueva",,,,,"Tubería ""PVC"""\r\n'
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
        self.assertEqual(self.s3.calls_to("Presign"), [
            {"ClientMethod": "get_object", "Params": {"Bucket": REPORTS, "Key": put["Key"]}, "ExpiresIn": 86400}
        ])
        url = f"https://{REPORTS}.s3.example/{put['Key']}?X-Amz-Expires=86400"
        (email,) = self.ses.calls_to("SendEmail")
        self.assertEqual({k: v for k, v in email.items() if k != "Content"}, {
            "FromEmailAddress": "no-reply@canalco.example",
            "Destination": {"ToAddresses": ["ana@canalco.co"]},
            "ConfigurationSetName": "canalco-dev",
        })
        template = email["Content"]["Template"]
        self.assertEqual(template["TemplateName"], "canalco-dev-reporte-programado")
        self.assertEqual(json.loads(template["TemplateData"]), {
            "report": "requisitions", "from": "2024-05-01", "to": "2024-05-02", "rows": 3,
            "url": url, "expires_hours": 24,
        })
        self.assertEqual(result, {
            "ok": True, "report": "requisitions", "from": "2024-05-01", "to": "2024-05-02", "rows": 3,
            "bucket": REPORTS, "key": put["Key"], "url": url,
        })
        self.assertEqual(metrics(lines), {
            "ReportsGenerated": 1, "EmailsSent": 1, "_namespace": "Canalco/Business", "_environment": "dev",
        })
        (warning,) = [line for line in lines if line.get("level") == "WARNING"]
        self.assertEqual(warning["lines"], 2)

    def test_audit_report_reads_live_and_archived_partitions_only(self):
        self.s3.add(AUDIT, "audit/archive/year=2024/month=01/day=09/req-a.jsonl", jsonl({"id": "e0", "action": "a"}))
        self.s3.add(AUDIT, "audit/year=2024/month=01/day=10/req-b.jsonl", jsonl({"id": "e1", "action": "b"}))
        self.s3.add(AUDIT, "audit/rejected/year=2024/month=01/day=10/req-b.jsonl", jsonl({"reason": "bad"}))
        self.s3.add(AUDIT, "audit/year=2024/month=01/day=11/req-c.jsonl", jsonl({"id": "e2", "action": "c"}))

        result, _ = self.invoke(request("audit", "2024-01-09", "2024-01-10"))

        self.assertEqual(result["rows"], 2)
        (put,) = self.s3.calls_to("PutObject")
        self.assertEqual(put["Bucket"], REPORTS)
        self.assertRegex(put["Key"], f"^reports/audit/2024-01-09_2024-01-10/{UUID}\\.csv$")
        self.assertEqual(self.csv_text(put), "id,action\r\ne0,a\r\ne1,b\r\n")

    def test_empty_range_still_produces_and_sends_an_empty_report(self):
        del os.environ["KMS_KEY_ARN"]
        result, _ = self.invoke(request("orders", "2023-01-01", "2023-01-01"))

        (put,) = self.s3.calls_to("PutObject")
        self.assertEqual(self.csv_text(put), "")
        self.assertNotIn("ServerSideEncryption", put)
        self.assertEqual(result["rows"], 0)
        self.assertEqual(len(self.ses.calls_to("SendEmail")), 1)

    def test_link_ttl_is_capped_at_seven_days(self):
        os.environ.update(LINK_TTL_SECONDS="999999", REPORTS_PREFIX="informes/")
        self.invoke(request("orders", "2024-05-01", "2024-05-01"))

        (presign,) = self.s3.calls_to("Presign")
        self.assertEqual(presign["ExpiresIn"], 604800)
        self.assertTrue(presign["Params"]["Key"].startswith("informes/orders/2024-05-01_2024-05-01/"))
        data = json.loads(self.ses.calls_to("SendEmail")[0]["Content"]["Template"]["TemplateData"])
        self.assertEqual((data["expires_hours"], data["rows"]), (168, 1))

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
            (request(format="xlsx"), "only format 'csv' is supported"),
            ("[]", "request is not a JSON object"),
        ]
        for event, error in cases:
            with self.subTest(error=error):
                result, _ = self.invoke(event)
                self.assertEqual(result, {"ok": False, "error": error})
        self.assertEqual(self.s3.calls + self.ses.calls, [])

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
            request(requested_by="luis@canalco.co"),
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


if __name__ == "__main__":
    unittest.main()
