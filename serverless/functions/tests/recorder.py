"""Records the AWS calls a handler makes, from botocore's own events.

Every client boto3 creates from the default session inherits the handlers registered on it:
``before-parameter-build`` gives the service, the operation and the caller's parameters of
each call. ``fakes`` answers the operations moto does not implement (named, so the record says
which answers were made up) from ``before-call``, which botocore lets a handler answer.
"""

import contextlib
import json
import re
import types
import urllib.parse
from pathlib import Path

# The parameters that name what a call touches: the IAM check turns them into ARNs. Bodies,
# times and tokens stay out, so the record changes only when the calls do.
NAMING = (
    "Bucket", "Key", "CopySource", "Prefix", "QueueUrl", "SecretId", "DBInstanceIdentifier", "RestoreJobId",
    "RecoveryPointArn", "BackupVaultName", "RoleArn", "FromEmailAddress", "ConfigurationSetName", "TopicArn",
    "ByStatus", "ParameterName", "Name", "Namespace", "RoleSessionName",
)


# Generated names (object keys of one run, and the six random characters Secrets Manager
# appends to a secret's ARN) are recorded as <uuid>, so the record is stable.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=-)[0-9a-f]{16}$")
SECRET_SUFFIX = re.compile(r"^(arn:aws:secretsmanager:[^:]+:\d{12}:secret:.+-)[A-Za-z0-9]{6}$")


def _stable(value):
    return SECRET_SUFFIX.sub(r"\1<uuid>", UUID.sub("<uuid>", value)) if isinstance(value, str) else value



class Recorder:
    """The calls made while it is active, as {service, operation, params}."""

    def __init__(self, fakes=None):
        self.calls, self.fakes = [], fakes or {}

    def _record(self, params, model, context=None, **_):
        service = model.service_model.signing_name
        named = {k: _stable(v) for k, v in params.items() if k in NAMING}
        if isinstance(named.get("CopySource"), dict):
            named["CopySource"] = f"{named['CopySource']['Bucket']}/{named['CopySource']['Key']}"
        elif "CopySource" in named:
            named["CopySource"] = urllib.parse.unquote(named["CopySource"])
        if "Delete" in params:  # DeleteObjects names its keys in the body
            named["Keys"] = sorted(o["Key"] for o in params["Delete"]["Objects"])
        call = {"service": service, "operation": model.name, "params": named,
                "fake": (model.service_model.service_id.hyphenize(), model.name) in self.fakes}
        if (context or {}).get("is_presign_request"):
            # A presigned URL: the call is made later by whoever holds it, with the signer's rights.
            call["presigned"] = True
        self.calls.append(call)

    def _fake(self, model, **_):
        answer = self.fakes.get((model.service_model.service_id.hyphenize(), model.name))
        if answer is None:
            return None
        return types.SimpleNamespace(status_code=200, headers={}, raw=None), answer

    @contextlib.contextmanager
    def active(self, region):
        """Inside moto's mock_aws: a default session whose clients report to this recorder."""
        import boto3

        boto3.setup_default_session(region_name=region)
        events = boto3.DEFAULT_SESSION.events
        events.register("before-parameter-build", self._record)
        events.register("before-call", self._fake)
        try:
            yield self
        finally:
            boto3.DEFAULT_SESSION = None


def write(path, record):
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def unique(calls):
    """The distinct calls, in a stable order."""
    seen = {json.dumps(c, sort_keys=True) for c in calls}
    return [json.loads(c) for c in sorted(seen)]
