"""Build time and peak memory of a 10,000-row report in each format (not a test: run it by hand).

    /usr/bin/python3 serverless/functions/tests/bench_reports.py

It runs the real libraries on this machine's CPU; the reports function's memory and timeout
(serverless/function.go) are sized from its output.
"""

import pathlib
import resource
import sys
import time
import tracemalloc
from datetime import date, datetime, timezone

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "reports"))
import report_files  # noqa: E402

ROWS = 10_000


def rows():
    return [{"id": f"OC-{i:05d}", "date": "2024-05-01", "created_at": "2024-05-01T15:04:05Z",
             "supplier": f"Proveedor {i % 37} S.A.S.", "description": "Cable de cobre 12 AWG, rollo de 100 m",
             "status": "aprobada", "total": 1000.5 + i, "tax": 190.1 + i} for i in range(ROWS)]


def main():
    print(f"{'format':<6} {'seconds':>8} {'python peak MB':>15} {'file KB':>8}")
    for fmt in ("xlsx", "pdf", "csv"):
        report = report_files.Report("orders", date(2024, 5, 1), date(2024, 5, 31), rows(), datetime.now(timezone.utc))
        # Timed apart from the memory run: tracemalloc slows every allocation several times over.
        started = time.perf_counter()
        body = report_files.render(report, fmt)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        report_files.render(report, fmt)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{fmt:<6} {seconds:>8.2f} {peak / 2**20:>15.1f} {len(body) / 1024:>8.0f}")
    # The whole process's high-water mark (interpreter, libraries, rows and every file above).
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
