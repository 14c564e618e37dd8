"""Test support: load a handler by path, fake AWS/SMTP clients, capture logs."""

import contextlib
import importlib.util
import io
import json
import pathlib
import ssl
import sys
from datetime import datetime, timezone

FUNCTIONS_DIR = pathlib.Path(__file__).resolve().parent.parent
# Each package holds the shared modules beside its handler; here they are imported from shared/.
sys.path.insert(0, str(FUNCTIONS_DIR / "shared"))


def load_handler(function):
    """Import <function>/handler.py under a unique module name."""
    spec = importlib.util.spec_from_file_location(f"{function}_handler", FUNCTIONS_DIR / function / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(handler_module, event, context=None, clients=None):
    """Call the handler; return (result, log lines parsed as JSON)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = handler_module.handler(event, context, clients=clients)
    return result, [json.loads(line) for line in out.getvalue().splitlines()]


def metrics(lines):
    """Metric values of the EMF lines, checking each line's EMF envelope."""
    values = {}
    for line in lines:
        if "_aws" not in line:
            continue
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Dimensions"] == [["Environment"]], directive
        for metric in directive["Metrics"]:
            values[metric["Name"]] = line[metric["Name"]]
        values["_namespace"], values["_environment"] = directive["Namespace"], line["Environment"]
    return values


class FakeClientError(Exception):
    """Stands for botocore's ClientError."""

    def __init__(self, code, operation):
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation")
        self.response = {"Error": {"Code": code}}


class FakeContext:
    def __init__(self, aws_request_id="req-1", remaining_ms=lambda: 900_000):
        self.aws_request_id = aws_request_id
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self._remaining_ms()


class _Recorder:
    """Records calls as (operation, kwargs); fail_when[operation](kwargs) -> raise."""

    def __init__(self):
        self.calls = []
        self.fail_when = {}

    def _record(self, operation, kwargs):
        self.calls.append((operation, kwargs))
        should_fail = self.fail_when.get(operation)
        if should_fail and should_fail(kwargs):
            raise FakeClientError("ServiceUnavailable", operation)

    def calls_to(self, operation):
        return [kwargs for name, kwargs in self.calls if name == operation]


class FakeS3(_Recorder):
    """An in-memory S3 with the operations the handlers use."""

    def __init__(self, page_size=1000):
        super().__init__()
        self.page_size = page_size
        self.objects = {}  # (bucket, key) -> dict(Body=bytes, LastModified=datetime, **attributes)
        self.undeletable = set()  # keys that delete_objects reports in "Errors"

    def add(self, bucket, key, body=b"", last_modified=None, **attributes):
        self.objects[(bucket, key)] = dict(
            Body=body, LastModified=last_modified or datetime.now(timezone.utc), **attributes
        )

    def keys(self, bucket):
        return sorted(key for b, key in self.objects if b == bucket)

    def put_object(self, **kwargs):
        self._record("PutObject", kwargs)
        attributes = {k: v for k, v in kwargs.items() if k not in ("Bucket", "Key", "Body")}
        self.add(kwargs["Bucket"], kwargs["Key"], kwargs["Body"], **attributes)
        return {}

    def get_object(self, **kwargs):
        self._record("GetObject", kwargs)
        return {"Body": io.BytesIO(self.objects[(kwargs["Bucket"], kwargs["Key"])]["Body"])}

    def copy_object(self, **kwargs):
        self._record("CopyObject", kwargs)
        source = self.objects[(kwargs["CopySource"]["Bucket"], kwargs["CopySource"]["Key"])]
        self.objects[(kwargs["Bucket"], kwargs["Key"])] = dict(source, StorageClass=kwargs["StorageClass"])
        return {}

    def delete_objects(self, **kwargs):
        self._record("DeleteObjects", kwargs)
        assert len(kwargs["Delete"]["Objects"]) <= 1000, "S3 accepts at most 1000 keys per call"
        errors = []
        for entry in kwargs["Delete"]["Objects"]:
            if entry["Key"] in self.undeletable:
                errors.append({"Key": entry["Key"], "Code": "AccessDenied", "Message": "Access Denied"})
            else:
                self.objects.pop((kwargs["Bucket"], entry["Key"]), None)
        return {"Errors": errors} if errors else {}

    def generate_presigned_url(self, ClientMethod, Params, ExpiresIn):
        self._record("Presign", {"ClientMethod": ClientMethod, "Params": Params, "ExpiresIn": ExpiresIn})
        return f"https://{Params['Bucket']}.s3.example/{Params['Key']}?X-Amz-Expires={ExpiresIn}"

    def get_paginator(self, name):
        assert name == "list_objects_v2", name
        return _ListObjectsV2Paginator(self)


class _ListObjectsV2Paginator:
    def __init__(self, s3):
        self.s3 = s3

    def paginate(self, Bucket, Prefix=""):
        keys = [key for key in self.s3.keys(Bucket) if key.startswith(Prefix)]
        start = 0
        while True:  # like S3, an empty listing is still one page, without "Contents"
            self.s3._record("ListObjectsV2", {"Bucket": Bucket, "Prefix": Prefix, "StartIndex": start})
            chunk = keys[start:start + self.s3.page_size]
            page = {"KeyCount": len(chunk)}
            if chunk:
                page["Contents"] = [
                    {"Key": key, "LastModified": self.s3.objects[(Bucket, key)]["LastModified"]} for key in chunk
                ]
            yield page
            start += self.s3.page_size
            if start >= len(keys):
                return


class FakeSESv2(_Recorder):
    def send_email(self, **kwargs):
        self._record("SendEmail", kwargs)
        return {"MessageId": f"msg-{len(self.calls)}"}


class FakeSecretsManager(_Recorder):
    def __init__(self, secrets):
        super().__init__()
        self.secrets = secrets

    def get_secret_value(self, **kwargs):
        self._record("GetSecretValue", kwargs)
        return {"SecretString": json.dumps(self.secrets[kwargs["SecretId"]])}


class FakeSMTP:
    """Factory standing for smtplib.SMTP; every connection logs its steps in .events."""

    def __init__(self, login_error=None):
        self.login_error = login_error
        self.events = []
        self.sent = []

    def __call__(self, host, port, timeout=None):
        self.events.append(("connect", host, port))
        return _FakeSMTPConnection(self)


class _FakeSMTPConnection:
    def __init__(self, factory):
        self.factory = factory
        self.tls = self.authenticated = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.factory.events.append(("quit",))

    def starttls(self, context=None):
        assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname, (
            "STARTTLS must verify the server certificate"
        )
        self.tls = True
        self.factory.events.append(("starttls",))

    def login(self, user, password):
        assert self.tls, "login before STARTTLS would send the password in clear"
        self.factory.events.append(("login", user, password))
        if self.factory.login_error:
            raise self.factory.login_error
        self.authenticated = True

    def send_message(self, message):
        assert self.authenticated
        self.factory.events.append(("send",))
        self.factory.sent.append(message)


# --- Recovery: AWS Backup and RDS, every call checked against the API's input shape. ---

# Operations and parameters newer than Debian's botocore 1.29 models, checked against the
# rules of their AWS API Reference pages instead.
NEWER_THAN_MODEL = {
    # AWS Backup API Reference, PutRestoreValidationResult: RestoreJobId and ValidationStatus
    # required; ValidationStatus FAILED | SUCCESSFUL | TIMED_OUT | VALIDATING; message a string.
    ("backup", "PutRestoreValidationResult"): {
        "RestoreJobId": lambda v: isinstance(v, str) and v != "",
        "ValidationStatus": lambda v: v in ("FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING"),
        "ValidationStatusMessage": lambda v: isinstance(v, str),
    },
    # Amazon RDS API Reference, ModifyDBInstance: ManageMasterUserPassword is a boolean.
    ("rds", "ModifyDBInstance"): {"ManageMasterUserPassword": lambda v: isinstance(v, bool)},
}
_REQUIRED_NEWER = {("backup", "PutRestoreValidationResult"): {"RestoreJobId", "ValidationStatus"}}


def check_call(service, operation, params):
    """Raise AssertionError unless params are a valid request of service.operation."""
    import botocore.session
    import botocore.validate

    required = _REQUIRED_NEWER.get((service, operation), set())
    assert required <= set(params), f"{operation}: missing {sorted(required - set(params))}"
    params = dict(params)
    rules = NEWER_THAN_MODEL.get((service, operation), {})
    for name in list(params):
        if name in rules:
            assert rules[name](params[name]), f"{operation}: invalid {name}={params[name]!r}"
            params.pop(name)
    model = botocore.session.get_session().get_service_model(service)
    if operation not in model.operation_names:
        assert (service, operation) in NEWER_THAN_MODEL, f"{service} has no operation {operation}"
        assert not params, f"{operation}: unknown parameters {sorted(params)}"
        return
    botocore.validate.validate_parameters(params, model.operation_model(operation).input_shape)


class _CheckedRecorder(_Recorder):
    service = ""

    def _record(self, operation, kwargs):
        check_call(self.service, operation, kwargs)
        super()._record(operation, kwargs)


class FakeBackup(_CheckedRecorder):
    """AWS Backup's restore jobs and recovery points."""

    service = "backup"

    def __init__(self, jobs=(), recovery_points=None):
        super().__init__()
        self.jobs = {job["RestoreJobId"]: job for job in jobs}
        self.recovery_points = recovery_points or {}  # (vault, arn) -> creation date
        self.page_size = 2

    def describe_restore_job(self, **kwargs):
        self._record("DescribeRestoreJob", kwargs)
        return dict(self.jobs[kwargs["RestoreJobId"]])

    def describe_recovery_point(self, **kwargs):
        self._record("DescribeRecoveryPoint", kwargs)
        return {"CreationDate": self.recovery_points[(kwargs["BackupVaultName"], kwargs["RecoveryPointArn"])]}

    def put_restore_validation_result(self, **kwargs):
        self._record("PutRestoreValidationResult", kwargs)
        return {}

    def list_restore_jobs(self, **kwargs):
        self._record("ListRestoreJobs", kwargs)
        jobs = [
            j for j in self.jobs.values()
            if j["Status"] == kwargs["ByStatus"] and j["CompletionDate"] > kwargs["ByCompleteAfter"]
        ]
        start = int(kwargs.get("NextToken", "0"))
        page = {"RestoreJobs": jobs[start:start + self.page_size]}
        if start + self.page_size < len(jobs):
            page["NextToken"] = str(start + self.page_size)
        return page


class FakeRDS(_CheckedRecorder):
    """RDS instances; on_modify(kwargs) lets a test apply a change (a new master password)."""

    service = "rds"

    def __init__(self, instances, on_modify=None):
        super().__init__()
        self.instances = instances  # id -> DescribeDBInstances member
        self.on_modify = on_modify

    def describe_db_instances(self, **kwargs):
        self._record("DescribeDBInstances", kwargs)
        return {"DBInstances": [dict(self.instances[kwargs["DBInstanceIdentifier"]])]}

    def modify_db_instance(self, **kwargs):
        self._record("ModifyDBInstance", kwargs)
        if self.on_modify:
            self.on_modify(kwargs)
        return {"DBInstance": dict(self.instances[kwargs["DBInstanceIdentifier"]])}
