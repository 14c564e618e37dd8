"""Test support: load a handler by path, fake AWS/SMTP clients, capture logs.

The fakes enforce what AWS enforces, so that a handler that would fail in AWS fails here:
every call's parameters are validated against botocore's service model of the operation
(Debian's python3-botocore, the models the Lambda runtime's boto3 is generated from), S3
refuses to read archived objects, SES does not send a template whose variables are missing,
and expired credentials fail every call.
"""

import contextlib
import functools
import importlib.util
import io
import json
import pathlib
import re
import ssl
import sys
import urllib.parse
from datetime import datetime, timedelta, timezone

import botocore.exceptions
import botocore.session
import botocore.validate
from botocore import xform_name

FUNCTIONS_DIR = pathlib.Path(__file__).resolve().parent.parent
# The SES templates the Pulumi program registers (serverless/email.go embeds the same files).
TEMPLATES_DIR = FUNCTIONS_DIR.parent / "templates"
# Each package holds the shared modules beside its handler; here they are imported from shared/.
sys.path.insert(0, str(FUNCTIONS_DIR / "shared"))


def load_handler(function):
    """Import <function>/handler.py under a unique module name, its own modules beside it."""
    folder = str(FUNCTIONS_DIR / function)
    if folder not in sys.path:
        sys.path.insert(0, folder)
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


@functools.cache
def service_model(service):
    """botocore's model of an AWS service (its service-2.json)."""
    return botocore.session.get_session().get_service_model(service)


def validate_call(service, operation, params):
    """Raise botocore's ParamValidationError when params do not fit the operation's input
    shape, exactly as a boto3 client does before sending the request. Operations and
    parameters newer than the models (NEWER_THAN_MODEL) are checked against the rules of their
    API Reference pages instead (AssertionError)."""
    required = _REQUIRED_NEWER.get((service, operation), set())
    assert required <= set(params), f"{operation}: missing {sorted(required - set(params))}"
    params = dict(params)
    rules = NEWER_THAN_MODEL.get((service, operation), {})
    for name in list(params):
        if name in rules:
            assert rules[name](params[name]), f"{operation}: invalid {name}={params[name]!r}"
            params.pop(name)
    model = service_model(service)
    if operation not in model.operation_names:
        assert (service, operation) in NEWER_THAN_MODEL, f"{service} has no operation {operation}"
        assert not params, f"{operation}: unknown parameters {sorted(params)}"
        return
    botocore.validate.validate_parameters(params, model.operation_model(operation).input_shape)


def operation_name(service, client_method):
    """The API operation of a boto3 method name: get_object -> GetObject."""
    names = {xform_name(op): op for op in service_model(service).operation_names}
    return names[client_method]


class FakeClientError(botocore.exceptions.ClientError):
    """botocore's ClientError, as a client raises it for an error response."""

    def __init__(self, code, operation, message=""):
        super().__init__({"Error": {"Code": code, "Message": message}}, operation)


class FakeContext:
    def __init__(self, aws_request_id="req-1", remaining_ms=lambda: 900_000):
        self.aws_request_id = aws_request_id
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self._remaining_ms()


class _Recorder:
    """Records calls as (operation, kwargs) after validating them against the service model;
    fail_when[operation](kwargs) -> raise. expire_credentials() makes every later call fail as
    AWS fails a request signed with expired temporary credentials."""

    service = ""  # botocore's service name

    def __init__(self):
        # Without a service no call could be checked against botocore's models.
        service_model(self.service)  # UnknownServiceError for a missing or misspelt name
        self.calls = []
        self.fail_when = {}
        self.fail_code = {}  # operation -> the error code fail_when raises (ServiceUnavailable)
        self.credentials_expired = False

    def _record(self, operation, kwargs, api=None):
        """api is (operation, params) to validate when the recorded step is not itself an API
        call (a presigned URL, one page of a paginator)."""
        validate_call(self.service, *(api or (operation, kwargs)))
        self.calls.append((operation, kwargs))
        if self.credentials_expired:
            raise FakeClientError("ExpiredToken", operation, "The security token included in the request is expired")
        should_fail = self.fail_when.get(operation)
        if should_fail and should_fail(kwargs):
            raise FakeClientError(self.fail_code.get(operation, "ServiceUnavailable"), operation)

    def expire_credentials(self):
        self.credentials_expired = True

    def calls_to(self, operation):
        return [kwargs for name, kwargs in self.calls if name == operation]


# Storage classes whose objects must be restored before GetObject (S3 API reference, GetObject:
# "InvalidObjectState"); GLACIER_IR is read like STANDARD.
ARCHIVED_STORAGE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
# A SigV4 presigned URL lasts at most 7 days.
MAX_PRESIGN_SECONDS = 604800


class FakeS3(_Recorder):
    """An in-memory S3 with the operations the handlers use.

    credentials_valid_seconds is what is left of the client's temporary credentials: a
    presigned URL stops working when they expire, whatever its ExpiresIn (recorded as
    ValidSeconds of the Presign call)."""

    service = "s3"

    def __init__(self, page_size=1000, credentials_valid_seconds=None):
        super().__init__()
        self.page_size = page_size
        self.credentials_valid_seconds = credentials_valid_seconds
        self.link_valid_seconds = {}  # presigned URL -> how long it really works
        self.objects = {}  # (bucket, key) -> dict(Body=bytes, LastModified=datetime, **attributes)
        self.undeletable = set()  # keys that delete_objects reports in "Errors"

    def add(self, bucket, key, body=b"", last_modified=None, **attributes):
        self.objects[(bucket, key)] = dict(
            Body=body, LastModified=last_modified or datetime.now(timezone.utc), **attributes
        )

    def _record(self, operation, kwargs, api=None):
        if operation == "CopyObject" and isinstance(kwargs.get("CopySource"), dict):
            # boto3 turns a {"Bucket", "Key"} CopySource into "bucket/key" before validating.
            source = kwargs["CopySource"]
            api = ("CopyObject", dict(kwargs, CopySource=f"{source['Bucket']}/{urllib.parse.quote(source['Key'])}"))
        super()._record(operation, kwargs, api)

    def keys(self, bucket):
        return sorted(key for b, key in self.objects if b == bucket)

    def put_object(self, **kwargs):
        self._record("PutObject", kwargs)
        attributes = {k: v for k, v in kwargs.items() if k not in ("Bucket", "Key", "Body")}
        self.add(kwargs["Bucket"], kwargs["Key"], kwargs["Body"], **attributes)
        return {}

    def get_object(self, **kwargs):
        self._record("GetObject", kwargs)
        stored = self.objects.get((kwargs["Bucket"], kwargs["Key"]))
        if stored is None:
            raise FakeClientError("NoSuchKey", "GetObject", "The specified key does not exist.")
        if stored.get("StorageClass") in ARCHIVED_STORAGE_CLASSES and 'ongoing-request="false"' not in stored.get("Restore", ""):
            raise FakeClientError("InvalidObjectState", "GetObject", "The operation is not valid for the object's storage class")
        return {"Body": io.BytesIO(stored["Body"])}

    def copy_object(self, **kwargs):
        self._record("CopyObject", kwargs)
        source = self.objects[(kwargs["CopySource"]["Bucket"], kwargs["CopySource"]["Key"])]
        self.objects[(kwargs["Bucket"], kwargs["Key"])] = dict(source, StorageClass=kwargs.get("StorageClass", "STANDARD"))
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
        assert 0 < ExpiresIn <= MAX_PRESIGN_SECONDS, f"presigned URLs last 1 s to 7 days, not {ExpiresIn} s"
        self._record(
            "Presign",
            {"ClientMethod": ClientMethod, "Params": Params, "ExpiresIn": ExpiresIn},
            api=(operation_name(self.service, ClientMethod), Params),
        )
        url = f"https://{Params['Bucket']}.s3.example/{Params['Key']}?X-Amz-Expires={ExpiresIn}"
        valid = ExpiresIn if self.credentials_valid_seconds is None else min(ExpiresIn, self.credentials_valid_seconds)
        self.link_valid_seconds[url] = valid
        return url

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
            self.s3._record(
                "ListObjectsV2",
                {"Bucket": Bucket, "Prefix": Prefix, "StartIndex": start},
                api=("ListObjectsV2", {"Bucket": Bucket, "Prefix": Prefix}),
            )
            chunk = keys[start:start + self.s3.page_size]
            page = {"KeyCount": len(chunk)}
            if chunk:
                page["Contents"] = [
                    {
                        "Key": key,
                        "LastModified": self.s3.objects[(Bucket, key)]["LastModified"],
                        "StorageClass": self.s3.objects[(Bucket, key)].get("StorageClass", "STANDARD"),
                    }
                    for key in chunk
                ]
            yield page
            start += self.s3.page_size
            if start >= len(keys):
                return


def project_templates():
    """The SES templates of serverless/templates by name: {"subject", "html", "text"}."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(TEMPLATES_DIR.glob("*.json"))}


# Handlebars as SES uses it in the project's templates: {{path}}, {{{path}}} and unnested
# {{#if path}}...{{/if}} blocks.
_IF_BLOCK = re.compile(r"\{\{#if\s+([\w.]+)\s*\}\}(.*?)\{\{/if\}\}", re.DOTALL)
_IF_CONDITION = re.compile(r"\{\{#if\s+([\w.]+)\s*\}\}")
_VARIABLE = re.compile(r"\{\{\{?\s*([\w.]+)\s*\}?\}\}")


def template_variables(text):
    """Every variable a template part uses, the {{#if}} conditions included."""
    return set(_VARIABLE.findall(text)) | set(_IF_CONDITION.findall(text))


class RenderingFailure(Exception):
    """SES could not render the template: the email is not sent."""


def _lookup(data, path):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def render(text, data):
    """Render a template part as SES does: a missing variable is a rendering failure, and values
    go into the HTML part unescaped (SES Developer Guide, "Advanced email personalization":
    "SES doesn't escape HTML content when rendering the HTML template")."""

    def condition(match):
        try:
            shown = bool(_lookup(data, match.group(1)))
        except KeyError:
            shown = False  # Handlebars' {{#if}} reads a missing value as false
        return match.group(2) if shown else ""

    def value(match):
        try:
            return str(_lookup(data, match.group(1)))
        except KeyError:
            raise RenderingFailure(f"Attribute '{match.group(1)}' is not present in the rendering data.") from None

    return _VARIABLE.sub(value, _IF_BLOCK.sub(condition, text))


class FakeSESv2(_Recorder):
    """SES v2. A templated SendEmail succeeds like SES's, but the message is only delivered
    (.delivered) when the template renders; otherwise SES publishes a Rendering Failure event
    (.events) and sends nothing (SES knowledge center, "ses-sendtemplatedemail-delivery-failure").
    templates maps template names to {"subject", "html", "text"}; by default the project's
    templates answer to any name ending in -<template>."""

    service = "sesv2"

    def __init__(self, templates=None):
        super().__init__()
        self.templates = templates
        self.delivered = []  # {"destination", "subject", "html", "text"} per email sent
        self.events = []  # SES event records published to the configuration set's destinations

    def _template(self, name):
        if self.templates is not None:
            return self.templates.get(name)
        for short, template in project_templates().items():
            if name == short or name.endswith("-" + short):
                return template
        return None

    def send_email(self, **kwargs):
        self._record("SendEmail", kwargs)
        message_id = f"msg-{len(self.calls)}"
        content = kwargs["Content"]
        if "Template" in content:
            template = self._template(content["Template"]["TemplateName"])
            if template is None:
                raise FakeClientError("NotFoundException", "SendEmail", "Template does not exist")
            data = json.loads(content["Template"]["TemplateData"])
            try:
                rendered = {part: render(template[part], data) for part in ("subject", "html", "text")}
            except RenderingFailure as exc:
                self.events.append({"eventType": "Rendering Failure", "mail": {"messageId": message_id},
                                    "failure": {"errorMessage": str(exc), "templateName": content["Template"]["TemplateName"]}})
                return {"MessageId": message_id}
        else:
            simple = content.get("Simple", {})
            rendered = {"subject": simple.get("Subject", {}).get("Data", ""),
                        "html": simple.get("Body", {}).get("Html", {}).get("Data", ""),
                        "text": simple.get("Body", {}).get("Text", {}).get("Data", "")}
        self.delivered.append(dict(rendered, destination=kwargs["Destination"]))
        return {"MessageId": message_id}


class FakeSTS(_Recorder):
    """AssumeRole hands out credentials that expire DurationSeconds after `now()`."""

    service = "sts"

    def __init__(self, now=lambda: datetime.now(timezone.utc)):
        super().__init__()
        self.now = now

    def assume_role(self, **kwargs):
        self._record("AssumeRole", kwargs)
        n = len(self.calls)
        return {"Credentials": {
            "AccessKeyId": f"ASIAFAKEKEY{n:09d}",
            "SecretAccessKey": "fake-secret",
            "SessionToken": f"fake-session-token-{n}",
            "Expiration": self.now() + timedelta(seconds=kwargs.get("DurationSeconds", 3600)),
        }}


class FakeSecretsManager(_Recorder):
    service = "secretsmanager"

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

    def ehlo(self, name=""):
        self.factory.events.append(("ehlo",))

    def auth(self, mechanism, authobject, initial_response_ok=True):
        assert self.tls, "AUTH before STARTTLS would send the token in clear"
        self.factory.events.append(("auth", mechanism, authobject()))
        if self.factory.login_error:
            authobject("error challenge")  # the server's 334 error, answered before its 535
            raise self.factory.login_error
        self.authenticated = True

    def send_message(self, message, from_addr=None, to_addrs=None):
        assert self.authenticated
        self.factory.events.append(("send",) if to_addrs is None else ("send", list(to_addrs)))
        self.factory.sent.append(message)


# --- Recovery: AWS Backup and RDS. ---

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


class FakeBackup(_Recorder):
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


class FakeRDS(_Recorder):
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
