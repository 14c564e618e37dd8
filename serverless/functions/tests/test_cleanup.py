import json
import os
import types
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

from tests.fakes import FakeContext, FakeS3, load_handler, metrics, run

cleanup = load_handler("cleanup")

UPLOADS = "canalco-dev-adjuntos-123456789012-us-east-1"
EXPORTS = "canalco-dev-reportes-123456789012-us-east-1"
AUDIT = "canalco-dev-auditoria-123456789012-us-east-1"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NOW = datetime(2024, 7, 15, 12, 0, tzinfo=timezone.utc)  # 90 days before: 2024-04-16 12:00
OLD, FRESH = NOW - timedelta(hours=25), NOW - timedelta(hours=23)
ENV = {
    "TEMP_PREFIXES": json.dumps([f"{UPLOADS}/tmp/", f"{EXPORTS}/exports/tmp/"]),
    "TEMP_MAX_AGE_HOURS": "24",
    "AUDIT_BUCKET": AUDIT,
    "AUDIT_PREFIX": "audit/",
    "AUDIT_ARCHIVE_AFTER_DAYS": "90",
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "ENVIRONMENT": "dev",
}
SCHEDULE = {"source": "canalco.schedule", "type": "cleanup.daily"}


class CleanupTestBase(unittest.TestCase):
    def setUp(self):
        for patcher in (mock.patch.dict(os.environ, ENV, clear=True), mock.patch.object(cleanup, "_utcnow", lambda: NOW)):
            patcher.start()
            self.addCleanup(patcher.stop)
        self.s3 = FakeS3()
        self.clients = types.SimpleNamespace(s3=self.s3)

    def invoke(self, event=SCHEDULE, context=None):
        return run(cleanup, event, context or FakeContext(), self.clients)


class TempCleanupTest(CleanupTestBase):
    def setUp(self):
        super().setUp()
        del os.environ["AUDIT_BUCKET"]
        self.old_keys = [f"tmp/{i:05d}.pdf" for i in range(2500)]
        for key in self.old_keys:
            self.s3.add(UPLOADS, key, last_modified=OLD)
        for i in range(10):
            self.s3.add(UPLOADS, f"tmp/fresh-{i}.pdf", last_modified=FRESH)
        self.s3.add(UPLOADS, "requisiciones/REQ-7/factura.pdf", last_modified=OLD)
        self.s3.add(EXPORTS, "exports/tmp/part-1.jsonl", last_modified=OLD)
        self.s3.add(EXPORTS, "exports/orders/year=2024/month=07/day=14/a.jsonl", last_modified=OLD)

    def test_deletes_expired_temporary_objects_over_several_pages_in_batches_of_1000(self):
        result, lines = self.invoke()

        self.assertEqual(result, {
            "dry_run": False, "temp_deleted": 2501, "audit_archived": 0, "delete_errors": 0, "complete": True,
        })
        deletes = self.s3.calls_to("DeleteObjects")
        self.assertEqual([(call["Bucket"], len(call["Delete"]["Objects"])) for call in deletes],
                         [(UPLOADS, 1000), (UPLOADS, 1000), (UPLOADS, 500), (EXPORTS, 1)])
        deleted = [entry["Key"] for call in deletes[:3] for entry in call["Delete"]["Objects"]]
        self.assertEqual(deleted, self.old_keys)
        self.assertTrue(all(call["Delete"]["Quiet"] for call in deletes))
        self.assertEqual(self.s3.keys(UPLOADS), ["requisiciones/REQ-7/factura.pdf"] +
                         [f"tmp/fresh-{i}.pdf" for i in range(10)])
        self.assertEqual(self.s3.keys(EXPORTS), ["exports/orders/year=2024/month=07/day=14/a.jsonl"])
        listings = self.s3.calls_to("ListObjectsV2")
        self.assertEqual([(c["Bucket"], c["Prefix"]) for c in listings],
                         [(UPLOADS, "tmp/")] * 3 + [(EXPORTS, "exports/tmp/")])
        self.assertEqual(metrics(lines)["ObjectsCleaned"], 2501)

    def test_dry_run_only_counts(self):
        result, lines = self.invoke({"dry_run": True})

        self.assertEqual(result["temp_deleted"], 2501)
        self.assertTrue(result["dry_run"])
        self.assertEqual(self.s3.calls_to("DeleteObjects"), [])
        self.assertEqual(len(self.s3.keys(UPLOADS)), 2511)
        self.assertEqual(metrics(lines), {})

    def test_stops_with_a_10_second_margin_and_the_next_run_continues(self):
        def remaining_ms():  # the first delete call uses up the time
            return 10_000 if not self.s3.calls_to("DeleteObjects") else 9_999

        result, _ = self.invoke(context=FakeContext(remaining_ms=remaining_ms))

        self.assertEqual(result, {
            "dry_run": False, "temp_deleted": 1000, "audit_archived": 0, "delete_errors": 0, "complete": False,
        })
        self.assertEqual(len(self.s3.calls_to("DeleteObjects")), 1)
        self.assertNotIn(EXPORTS, [call["Bucket"] for call in self.s3.calls_to("ListObjectsV2")])

        result, _ = self.invoke()

        self.assertEqual((result["temp_deleted"], result["complete"]), (1501, True))
        self.assertEqual(len(self.s3.keys(UPLOADS)), 11)

    def test_keys_s3_refuses_to_delete_are_counted(self):
        self.s3.undeletable = {"tmp/00007.pdf", "tmp/02000.pdf"}

        result, lines = self.invoke()

        self.assertEqual((result["temp_deleted"], result["delete_errors"]), (2499, 2))
        self.assertIn("tmp/00007.pdf", self.s3.keys(UPLOADS))
        self.assertEqual(len([line for line in lines if line.get("level") == "ERROR"]), 2)

    def test_refuses_temp_prefixes_that_are_not_tmp(self):
        for prefixes in ([f"{UPLOADS}/"], [UPLOADS], [f"{UPLOADS}/uploads/"], ["/tmp/"], {"bucket": "tmp/"}):
            with self.subTest(prefixes=prefixes), mock.patch.dict(os.environ, {"TEMP_PREFIXES": json.dumps(prefixes)}):
                with self.assertRaises(ValueError):
                    self.invoke()
        self.assertEqual(self.s3.calls, [])


class AuditArchiveTest(CleanupTestBase):
    def setUp(self):
        super().setUp()
        del os.environ["TEMP_PREFIXES"]
        self.to_archive = [
            "audit/year=2023/month=12/day=31/req-a.jsonl",
            "audit/year=2024/month=01/day=01/req-b.jsonl",
            "audit/year=2024/month=01/day=01/req-c.jsonl",
            "audit/year=2024/month=04/day=15/req-d.jsonl",
        ]
        self.kept = [
            "audit/archive/year=2023/month=01/day=01/req-old.jsonl",
            "audit/rejected/year=2023/month=02/day=01/req-bad.jsonl",
            "audit/year=2024/month=04/day=16/req-e.jsonl",
            "audit/year=2024/month=07/day=15/req-f.jsonl",
        ]
        for key in self.to_archive + self.kept:
            self.s3.add(AUDIT, key, body=key.encode(), ContentType="application/x-ndjson")

    def test_archives_partitions_older_than_the_cutoff_to_glacier_ir(self):
        result, lines = self.invoke()

        self.assertEqual(result, {
            "dry_run": False, "temp_deleted": 0, "audit_archived": 4, "delete_errors": 0, "complete": True,
        })
        self.assertEqual(self.s3.calls_to("CopyObject"), [
            {
                "Bucket": AUDIT,
                "Key": key.replace("audit/", "audit/archive/", 1),
                "CopySource": {"Bucket": AUDIT, "Key": key},
                "StorageClass": "GLACIER_IR",
                "MetadataDirective": "COPY",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": KMS_KEY_ARN,
            }
            for key in self.to_archive
        ])
        archived = [key.replace("audit/", "audit/archive/", 1) for key in self.to_archive]
        self.assertEqual(self.s3.keys(AUDIT), sorted(archived + self.kept))
        for key in archived:
            self.assertEqual(self.s3.objects[(AUDIT, key)]["StorageClass"], "GLACIER_IR")
            self.assertEqual(self.s3.objects[(AUDIT, key)]["Body"], key.replace("archive/", "").encode())
        self.assertEqual([c["Prefix"] for c in self.s3.calls_to("ListObjectsV2")], ["audit/year="])
        self.assertEqual(metrics(lines)["ObjectsCleaned"], 4)

    def test_second_run_has_nothing_left_to_do_and_stops_listing_at_the_first_recent_partition(self):
        self.invoke()
        self.s3.calls.clear()
        self.s3.page_size = 1

        result, _ = self.invoke()

        self.assertEqual(result["audit_archived"], 0)
        self.assertEqual(self.s3.calls_to("CopyObject") + self.s3.calls_to("DeleteObjects"), [])
        self.assertEqual(len(self.s3.calls_to("ListObjectsV2")), 1)

    def test_dry_run_copies_and_deletes_nothing(self):
        result, _ = self.invoke({"dry_run": True})

        self.assertEqual(result["audit_archived"], 4)
        self.assertEqual(self.s3.calls_to("CopyObject") + self.s3.calls_to("DeleteObjects"), [])

    def test_time_budget_stop_deletes_what_was_already_copied(self):
        def remaining_ms():
            return 60_000 if len(self.s3.calls_to("CopyObject")) < 2 else 5_000

        result, _ = self.invoke(context=FakeContext(remaining_ms=remaining_ms))

        self.assertEqual((result["audit_archived"], result["complete"]), (2, False))
        (delete,) = self.s3.calls_to("DeleteObjects")
        self.assertEqual([entry["Key"] for entry in delete["Delete"]["Objects"]], self.to_archive[:2])

        result, _ = self.invoke()

        self.assertEqual((result["audit_archived"], result["complete"]), (2, True))
        self.assertFalse(any(key in self.s3.keys(AUDIT) for key in self.to_archive))

    def test_temp_budget_exhaustion_leaves_the_archive_for_the_next_run(self):
        os.environ["TEMP_PREFIXES"] = json.dumps([f"{UPLOADS}/tmp/"])
        self.s3.add(UPLOADS, "tmp/a.pdf", last_modified=OLD)

        result, _ = self.invoke(context=FakeContext(remaining_ms=lambda: 9_000))

        self.assertFalse(result["complete"])
        self.assertEqual([c["Bucket"] for c in self.s3.calls_to("ListObjectsV2")], [UPLOADS])


if __name__ == "__main__":
    unittest.main()
