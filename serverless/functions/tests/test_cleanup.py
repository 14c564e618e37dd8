import gzip
import json
import os
import types
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

import boto3
from moto.s3.models import s3_backends

from tests.aws import ACCOUNT, MotoTestCase
from tests.fakes import FakeContext, load_handler, metrics, run

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
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "ENVIRONMENT": "dev",
    "TIMEZONE": "America/Bogota",
}
SCHEDULE = {"source": "canalco.schedule", "type": "cleanup.daily"}


class CleanupTestBase(MotoTestCase):
    def setUp(self):
        for patcher in (mock.patch.dict(os.environ, ENV, clear=True), mock.patch.object(cleanup, "_utcnow", lambda: NOW)):
            patcher.start()
            self.addCleanup(patcher.stop)
        super().setUp()
        self.s3 = self.client("s3")
        self.seed = boto3.client("s3", region_name="us-east-1")  # the tests' own calls, not recorded
        for bucket in (UPLOADS, EXPORTS, AUDIT):
            self.seed.create_bucket(Bucket=bucket)
        self.clients = types.SimpleNamespace(s3=self.s3)

    def add(self, bucket, key, body=b"", last_modified=NOW, **extra):
        """An object as if written at last_modified (moto stamps it with its own clock). Plain
        objects go straight into moto's store: thousands of them, without a request each."""
        backend = s3_backends[ACCOUNT]["aws"]
        if extra:
            self.seed.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        else:
            backend.put_object(bucket, key, body)
        backend.buckets[bucket].keys[key].last_modified = last_modified.replace(tzinfo=None)

    def keys(self, bucket):
        pages = self.seed.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def refuse_deletes(self, *keys):
        """S3 answers DeleteObjects with an AccessDenied error for each of keys (as for an object
        the caller may not delete) and deletes the others."""
        refused = []

        def withhold(params, **_):
            objects = params["Delete"]["Objects"]
            refused[:] = [o["Key"] for o in objects if o["Key"] in keys]
            params["Delete"] = dict(params["Delete"], Objects=[o for o in objects if o["Key"] not in keys])

        def report(parsed, **_):
            parsed.setdefault("Errors", []).extend({"Key": k, "Code": "AccessDenied", "Message": "Access Denied"} for k in refused)

        self.s3.meta.events.register("provide-client-params.s3.DeleteObjects", withhold)
        self.s3.meta.events.register("after-call.s3.DeleteObjects", report)

    def invoke(self, event=SCHEDULE, context=None):
        return run(cleanup, event, context or FakeContext(), self.clients)


class TempCleanupTest(CleanupTestBase):
    def setUp(self):
        super().setUp()
        del os.environ["AUDIT_BUCKET"]
        self.old_keys = [f"tmp/{i:05d}.pdf" for i in range(2500)]
        for key in self.old_keys:
            self.add(UPLOADS, key, last_modified=OLD)
        for i in range(10):
            self.add(UPLOADS, f"tmp/fresh-{i}.pdf", last_modified=FRESH)
        self.add(UPLOADS, "requisiciones/REQ-7/factura.pdf", last_modified=OLD)
        self.add(EXPORTS, "exports/tmp/part-1.jsonl", last_modified=OLD)
        self.add(EXPORTS, "exports/orders/year=2024/month=07/day=14/a.jsonl", last_modified=OLD)

    def test_deletes_expired_temporary_objects_over_several_pages_in_batches_of_1000(self):
        result, lines = self.invoke()

        self.assertEqual(result, {
            "dry_run": False, "temp_deleted": 2501, "audit_days": 0, "audit_folded": 0, "delete_errors": 0, "complete": True,
        })
        deletes = self.aws.to("DeleteObjects")
        self.assertEqual([(call["Bucket"], len(call["Delete"]["Objects"])) for call in deletes],
                         [(UPLOADS, 1000), (UPLOADS, 1000), (UPLOADS, 500), (EXPORTS, 1)])
        deleted = [entry["Key"] for call in deletes[:3] for entry in call["Delete"]["Objects"]]
        self.assertEqual(deleted, self.old_keys)
        self.assertTrue(all(call["Delete"]["Quiet"] for call in deletes))
        self.assertEqual(self.keys(UPLOADS), ["requisiciones/REQ-7/factura.pdf"] +
                         [f"tmp/fresh-{i}.pdf" for i in range(10)])
        self.assertEqual(self.keys(EXPORTS), ["exports/orders/year=2024/month=07/day=14/a.jsonl"])
        listings = self.aws.to("ListObjectsV2")
        self.assertEqual([(c["Bucket"], c["Prefix"]) for c in listings],
                         [(UPLOADS, "tmp/")] * 3 + [(EXPORTS, "exports/tmp/")])
        self.assertEqual(metrics(lines)["ObjectsCleaned"], 2501)

    def test_dry_run_only_counts(self):
        result, lines = self.invoke({"dry_run": True})

        self.assertEqual(result["temp_deleted"], 2501)
        self.assertTrue(result["dry_run"])
        self.assertEqual(self.aws.to("DeleteObjects"), [])
        self.assertEqual(len(self.keys(UPLOADS)), 2511)
        self.assertEqual(metrics(lines), {})

    def test_stops_with_a_10_second_margin_and_the_next_run_continues(self):
        def remaining_ms():  # the first delete call uses up the time
            return 10_000 if not self.aws.to("DeleteObjects") else 9_999

        result, _ = self.invoke(context=FakeContext(remaining_ms=remaining_ms))

        self.assertEqual(result, {
            "dry_run": False, "temp_deleted": 1000, "audit_days": 0, "audit_folded": 0, "delete_errors": 0, "complete": False,
        })
        self.assertEqual(len(self.aws.to("DeleteObjects")), 1)
        self.assertNotIn(EXPORTS, [call["Bucket"] for call in self.aws.to("ListObjectsV2")])

        result, _ = self.invoke()

        self.assertEqual((result["temp_deleted"], result["complete"]), (1501, True))
        self.assertEqual(len(self.keys(UPLOADS)), 11)

    def test_keys_s3_refuses_to_delete_are_counted(self):
        self.refuse_deletes("tmp/00007.pdf", "tmp/02000.pdf")

        result, lines = self.invoke()

        self.assertEqual((result["temp_deleted"], result["delete_errors"]), (2499, 2))
        self.assertIn("tmp/00007.pdf", self.keys(UPLOADS))
        self.assertEqual(len([line for line in lines if line.get("level") == "ERROR"]), 2)

    def test_refuses_temp_prefixes_that_are_not_tmp(self):
        for prefixes in ([f"{UPLOADS}/"], [UPLOADS], [f"{UPLOADS}/uploads/"], ["/tmp/"], {"bucket": "tmp/"}):
            with self.subTest(prefixes=prefixes), mock.patch.dict(os.environ, {"TEMP_PREFIXES": json.dumps(prefixes)}):
                with self.assertRaises(ValueError):
                    self.invoke()
        self.assertEqual(self.aws.calls, [])


def events(*pairs):
    return "".join(json.dumps({"id": i, "occurred_at": at, "action": "a"}) + "\n" for i, at in pairs).encode()


class AuditConsolidationTest(CleanupTestBase):
    """NOW is 2024-07-15 07:00 in Bogotá: every day before the 15th is complete."""

    def setUp(self):
        super().setUp()
        del os.environ["TEMP_PREFIXES"]
        day = "audit/year=2024/month=07/day={}/"
        # Batches of the 13th, one redelivered by SQS in another batch (e2 twice).
        self.add(AUDIT, day.format(13) + "batch-1.jsonl", events(("e2", "2024-07-13T10:00:00-05:00"), ("e1", "2024-07-13T08:00:00-05:00")))
        self.add(AUDIT, day.format(13) + "batch-2.jsonl", events(("e2", "2024-07-13T10:00:00-05:00"), ("e3", "2024-07-14T04:30:00Z")))
        # A late event of the 12th, already consolidated with e0.
        self.add(AUDIT, "audit/archive/year=2024/month=07/day=12/events.jsonl.gz", gzip.compress(events(("e0", "2024-07-12T09:00:00-05:00"))))
        self.add(AUDIT, day.format(12) + "batch-3.jsonl", events(("e9", "2024-07-12T07:00:00-05:00")))
        # An archive copy of the former layout (one object per batch).
        self.add(AUDIT, "audit/archive/year=2024/month=01/day=02/req-old.jsonl", events(("o1", "2024-01-02T09:00:00-05:00")),
                 StorageClass="GLACIER_IR")
        self.kept = [
            "audit/archive/year=2024/month=07/day=11/events.jsonl.gz",
            "audit/rejected/year=2024/month=07/day=13/req-bad.jsonl",
            "audit/year=2024/month=07/day=15/batch-today.jsonl",  # today: still being written
        ]
        for key in self.kept:
            self.add(AUDIT, key, gzip.compress(events(("k", "2024-07-11T09:00:00-05:00"))) if key.endswith(".gz") else b"{}\n")
        self.aws.clear()

    def day(self, date_path):
        body = self.seed.get_object(Bucket=AUDIT, Key=f"audit/archive/{date_path}/events.jsonl.gz")
        return [json.loads(line) for line in gzip.decompress(body["Body"].read()).decode().splitlines()], body

    def test_each_past_day_becomes_one_sorted_gzip_object_with_one_line_per_event(self):
        result, lines = self.invoke()

        self.assertEqual(result, {"dry_run": False, "temp_deleted": 0, "audit_days": 3, "audit_folded": 4,
                                  "delete_errors": 0, "complete": True})
        self.assertEqual(sorted(self.keys(AUDIT)), sorted(self.kept + [
            "audit/archive/year=2024/month=01/day=02/events.jsonl.gz",
            "audit/archive/year=2024/month=07/day=12/events.jsonl.gz",
            "audit/archive/year=2024/month=07/day=13/events.jsonl.gz",
        ]))
        thirteenth, obj = self.day("year=2024/month=07/day=13")
        self.assertEqual([e["id"] for e in thirteenth], ["e1", "e2", "e3"])
        self.assertEqual([e["id"] for e in self.day("year=2024/month=07/day=12")[0]], ["e9", "e0"])
        self.assertEqual([e["id"] for e in self.day("year=2024/month=01/day=02")[0]], ["o1"])
        self.assertEqual((obj["ContentType"], obj["ServerSideEncryption"], obj["SSEKMSKeyId"]),
                         ("application/gzip", "aws:kms", KMS_KEY_ARN))
        self.assertEqual(metrics(lines)["ObjectsCleaned"], 4)

    def test_a_second_run_has_nothing_to_do_and_a_run_stopped_before_its_deletes_converges(self):
        with mock.patch.object(cleanup._BatchDelete, "flush", lambda batch: None):  # stopped before deleting
            self.invoke()
        first = self.day("year=2024/month=07/day=13")[0]

        result, _ = self.invoke()
        self.assertEqual(self.day("year=2024/month=07/day=13")[0], first)
        self.assertEqual((result["audit_days"], result["audit_folded"]), (3, 4))
        self.aws.clear()

        result, _ = self.invoke()
        self.assertEqual((result["audit_days"], result["audit_folded"]), (0, 0))
        self.assertEqual(self.aws.to("PutObject") + self.aws.to("DeleteObjects") + self.aws.to("GetObject"), [])

    def test_dry_run_writes_and_deletes_nothing(self):
        result, _ = self.invoke({"dry_run": True})

        self.assertEqual((result["audit_days"], result["audit_folded"]), (3, 4))
        self.assertEqual(self.aws.to("PutObject") + self.aws.to("DeleteObjects"), [])

    def test_time_budget_stop_leaves_the_rest_for_the_next_run(self):
        def remaining_ms():
            return 60_000 if len(self.aws.to("PutObject")) < 2 else 5_000

        result, _ = self.invoke(context=FakeContext(remaining_ms=remaining_ms))

        self.assertEqual((result["audit_days"], result["complete"]), (2, False))
        result, _ = self.invoke()
        self.assertEqual((result["audit_days"], result["complete"]), (1, True))

    def test_temp_budget_exhaustion_leaves_the_archive_for_the_next_run(self):
        os.environ["TEMP_PREFIXES"] = json.dumps([f"{UPLOADS}/tmp/"])
        self.add(UPLOADS, "tmp/a.pdf", last_modified=OLD)

        result, _ = self.invoke(context=FakeContext(remaining_ms=lambda: 9_000))

        self.assertFalse(result["complete"])
        self.assertEqual([c["Bucket"] for c in self.aws.to("ListObjectsV2")], [UPLOADS])


if __name__ == "__main__":
    unittest.main()
