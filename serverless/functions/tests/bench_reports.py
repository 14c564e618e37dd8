"""The reports function at Canalco's volume: time, peak memory and S3 requests (`make bench`).

    make bench                      # every case
    make bench CASES="pdf audit-31"  # some of them

Cases (targets in brackets):
  pdf       10,000 rows with 1 KB text fields, rendered by report_files.to_pdf        [<= 20 s]
  audit-31  a 31-day audit report at AUDIT_EVENTS_PER_DAY (310,000 rows), xlsx and csv,
            through the handler against moto's S3, one consolidated object per day
            [<= 120 s each, GETs <= one per day plus listing, peak memory <= half of 1,769 MB]
  audit-366 the same for 366 days in csv                 [within the timeout, or a clear refusal]

Each case runs in its own process, so its peak memory (max RSS) is its own. The numbers are this
machine's single core; Lambda gives the reports function one vCPU at its 1,769 MB
(serverless/function.go). moto runs in the same process: its copy of every object (the day
objects and the uploaded report) counts in the peak, and its S3 answers without network latency
(the GETs overlap FETCH_WORKERS at a time to hide that latency on AWS). Not a test: the test
suite checks the request counts and the bounded memory on smaller data.
"""

import contextlib
import gzip
import io
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import types
from datetime import date, datetime, timedelta, timezone
from unittest import mock

FUNCTIONS = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(FUNCTIONS))

# serverless/function.go (reports) and settings' usageAuditEventsPerDay for prod.
MEMORY_MB = 1769
TIMEOUT_S = 300
AUDIT_EVENTS_PER_DAY = 10_000
TEXT = ("Cambio de estado de la requisición con observaciones del aprobador; " * 20)[:1024]


def pdf_case():
    # Lambda installs ReportLab's pure-Python wheel; Debian's build has C accelerators (string
    # widths among them). Hiding them makes ReportLab fall back to its Python code, as on Lambda.
    sys.modules["reportlab.lib._rl_accel"] = None
    from reportlab.lib import rl_accel
    from tests.fakes import load_handler

    assert not rl_accel._c_funcs, "ReportLab's C accelerators are still in use"

    load_handler("reports")
    import report_files

    rows = [{"id": f"REQ-{i:05d}", "title": TEXT, "notes": TEXT, "requester": "ana@canalco.co", "total": 1000.5 + i,
             "created_at": "2024-05-01T15:04:05Z"} for i in range(10_000)]
    report = report_files.Report("requisitions", date(2024, 5, 1), date(2024, 5, 31), rows, datetime.now(timezone.utc))
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "r.pdf")
        started = time.perf_counter()
        report_files.render(report, "pdf", path)
        seconds = time.perf_counter() - started
        size = os.path.getsize(path)
    return {"case": "pdf 10,000 rows x 1 KB text", "seconds": seconds, "rows": 10_000, "bytes": size}


def day_object(day):
    """A consolidated audit day as the clean-up function writes it (gzip JSON Lines, sorted)."""
    lines = []
    for i in range(AUDIT_EVENTS_PER_DAY):
        at = datetime(day.year, day.month, day.day, 5, 0, tzinfo=timezone.utc) + timedelta(seconds=i * 8)
        lines.append(json.dumps({
            "id": f"{day:%Y%m%d}-{i:05d}-7f3a9c2e", "occurred_at": at.isoformat(), "action": "requisition.approve",
            "actor": "ana.rodriguez@canalco.co", "entity": "requisition", "entity_id": f"REQ-2024-{i % 5000:04d}",
            "details": {"from": "pending", "to": "approved", "comment": "Aprobada según presupuesto del área"},
        }, ensure_ascii=False, separators=(",", ":")))
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=6)


def audit_case(days_count, fmt):
    import boto3
    from moto import mock_aws

    from tests.aws import Calls
    from tests.fakes import FakeContext, FakeSESv2, load_handler

    reports = load_handler("reports")
    env = {"REPORTS_BUCKET": "reports", "AUDIT_BUCKET": "audit", "DOWNLOAD_ROLE_ARN": "arn:aws:iam::123456789012:role/links",
           "SENDER": "no-reply@canalco.example", "TIMEZONE": "America/Bogota", "ENVIRONMENT": "bench"}
    with mock.patch.dict(os.environ, env), mock_aws():
        seed = boto3.client("s3", region_name="us-east-1")
        for bucket in ("reports", "audit"):
            seed.create_bucket(Bucket=bucket)
        start = date(2024, 1, 1)
        body = None
        for offset in range(days_count):
            day = start + timedelta(days=offset)
            # Built once a month to keep the set-up short: ids are unique within a day, which is
            # all the reader deduplicates on.
            if body is None or day.day == 1:
                body = day_object(day)
            seed.put_object(Bucket="audit", Key=f"audit/archive/year={day:%Y}/month={day:%m}/day={day:%d}/events.jsonl.gz", Body=body)
        calls = Calls()
        s3 = calls.attach(boto3.client("s3", region_name="us-east-1"))
        sts = calls.attach(boto3.client("sts", region_name="us-east-1"))
        ses = boto3.client("sesv2", region_name="us-east-1")
        ses.create_email_identity(EmailIdentity="canalco.example")
        clients = types.SimpleNamespace(s3=s3, sts=sts, sesv2=FakeSESv2(client=ses),
                                        signer=lambda c: boto3.client("s3", region_name="us-east-1"))
        end = start + timedelta(days=days_count - 1)
        event = {"report": "audit", "from": start.isoformat(), "to": end.isoformat(), "requested_by": "ana@canalco.co", "format": fmt}
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            result = reports.handler(event, FakeContext(), clients=clients)
        seconds = time.perf_counter() - started
    count = {op: len(calls.to(op)) for op in ("ListObjectsV2", "GetObject", "PutObject")}
    return {"case": f"audit {days_count} days {fmt}", "seconds": seconds, "rows": result.get("rows"),
            "bytes": result.get("bytes"), "requests": count, "refused": result.get("error")}


CASES = {
    "pdf": pdf_case,
    "audit-31-xlsx": lambda: audit_case(31, "xlsx"),
    "audit-31-csv": lambda: audit_case(31, "csv"),
    "audit-366-csv": lambda: audit_case(366, "csv"),
}


def main(argv):
    if len(argv) == 2 and argv[0] == "--case":  # the child: one case, one JSON line
        result = CASES[argv[1]]()
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    wanted = [c for c in CASES if not argv or any(c.startswith(a) for a in argv)]
    print(f"{'case':<30} {'seconds':>8} {'max RSS MB':>10} {'rows':>9} {'file MB':>8}  S3 requests / result")
    for name in wanted:
        out = subprocess.run([sys.executable, __file__, "--case", name], check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        note = r.get("refused") or ", ".join(f"{k} {v}" for k, v in r.get("requests", {}).items())
        print(f"{r['case']:<30} {r['seconds']:>8.1f} {r['max_rss_mb']:>10.0f} {r['rows'] or 0:>9,} "
              f"{(r['bytes'] or 0) / 2**20:>8.1f}  {note}")
    print(f"(function: {MEMORY_MB} MB, {TIMEOUT_S} s; audit volume {AUDIT_EVENTS_PER_DAY:,} events a day)")


if __name__ == "__main__":
    main(sys.argv[1:])
