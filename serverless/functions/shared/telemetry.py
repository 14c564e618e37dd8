"""Structured logs and business metrics, shared by every function (packaged beside each handler).

Metrics use CloudWatch Embedded Metric Format: one JSON line in the function's log becomes
metrics without a PutMetricData call.
"""

import json
import os
import time


def log(level, message, **fields):
    """Print one JSON log line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str, ensure_ascii=False))


def emit_metrics(counts):
    """Print one Embedded Metric Format line with Count metrics."""
    print(json.dumps({
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": os.environ.get("METRIC_NAMESPACE", "Canalco/Business"),
                "Dimensions": [["Environment"]],
                "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
            }],
        },
        "Environment": os.environ.get("ENVIRONMENT", "unknown"),
        **counts,
    }))


def emit_values(namespace, values, units):
    """Print one Embedded Metric Format line of measurements (units[name]: Seconds, None, ...)
    in its own namespace, with the same Environment dimension as emit_metrics."""
    print(json.dumps({
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Environment"]],
                "Metrics": [{"Name": name, "Unit": units[name]} for name in values],
            }],
        },
        "Environment": os.environ.get("ENVIRONMENT", "unknown"),
        **values,
    }))
