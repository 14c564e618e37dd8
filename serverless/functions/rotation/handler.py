"""Rotates the database's master password: single-user PostgreSQL rotation.

Trigger: Secrets Manager, every 30 days and on `aws secretsmanager rotate-secret`, once per
step with {"SecretId", "ClientRequestToken", "Step"} ("How rotation works" and "Lambda rotation
functions", Secrets Manager user guide). The token is the new version's ID; the staging labels
say where each version is:

1. createSecret: the new version holds a new random password, labelled AWSPENDING. AWSCURRENT
   (the password the database takes) is untouched.
2. setSecret: signs in with AWSCURRENT (or AWSPREVIOUS, when a rotation stopped after setting
   it) and changes the master user's password to AWSPENDING's. The password travels as a
   SCRAM-SHA-256 verifier computed here (libpq's PQencryptPasswordConn, as psql's \\password
   does): the statement, which the slow-query log may record, never holds the password.
3. testSecret: signs in with AWSPENDING and runs a query.
4. finishSecret: moves AWSCURRENT to the new version (AWSPREVIOUS follows the old one) and
   takes AWSPENDING off it, so that no rotation looks in progress.

Every step is idempotent, so Secrets Manager may retry any of them: a step whose result is
already there does nothing. Until finishSecret, AWSCURRENT is the password the database
takes, or, after setSecret, AWSPENDING is; a failed testSecret leaves AWSCURRENT unchanged
and the rotation is retried with the same token. Connections are TLS with verify-full
against the region's RDS CA bundle (CA_BUNDLE_URL, downloaded at cold start).
"""

import json
import os
import types
import urllib.request

import psycopg  # from the function's layer (requirements.txt)
from psycopg import sql

import telemetry  # shared/telemetry.py, packaged beside this handler

CA_FILE = "/tmp/rds-ca-bundle.pem"
CONNECT_TIMEOUT_SECONDS = 5
PASSWORD_LENGTH = 40
# The characters RDS refuses in a master password ('/', '"', '@', space), and the quote and
# backslash, so the password is safe in any client's connection string.
EXCLUDED_CHARACTERS = "/\"@ '\\"
CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"


class RotationError(Exception):
    """The rotation cannot go on: Secrets Manager records the failure and retries later."""


def _default_clients():
    import boto3

    return types.SimpleNamespace(secretsmanager=boto3.client("secretsmanager"))


def handler(event, context, clients=None):
    sm = (clients or _default_clients()).secretsmanager
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    steps = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret, "finishSecret": finish_secret}
    if step not in steps:
        raise RotationError(f"unknown step {step!r}")
    versions = _check_token(sm, arn, token)
    if CURRENT in versions[token] and step != "finishSecret":
        telemetry.log("INFO", "version already current", secret=arn, step=step, token=token)
        return
    steps[step](sm, arn, token)
    telemetry.log("INFO", "rotation step done", secret=arn, step=step, token=token)


def _check_token(sm, arn, token):
    """The secret's versions by ID with their labels; the token must be a version in rotation."""
    meta = sm.describe_secret(SecretId=arn)
    if not meta.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled on {arn}")
    versions = meta.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} is not a version of {arn}")
    if CURRENT not in versions[token] and PENDING not in versions[token]:
        raise RotationError(f"version {token} of {arn} is neither current nor pending")
    return versions


def _value(sm, arn, stage, token=None):
    args = {"SecretId": arn, "VersionStage": stage}
    if token:
        args["VersionId"] = token
    value = json.loads(sm.get_secret_value(**args)["SecretString"])
    missing = {"host", "port", "username", "password", "dbname"} - value.keys()
    if missing:
        raise RotationError(f"the {stage} version of {arn} lacks {', '.join(sorted(missing))}")
    return value


def create_secret(sm, arn, token):
    current = _value(sm, arn, CURRENT)
    try:
        _value(sm, arn, PENDING, token)
        return  # a retried createSecret: the pending version exists
    except sm.exceptions.ResourceNotFoundException:
        pass
    password = sm.get_random_password(PasswordLength=PASSWORD_LENGTH, ExcludeCharacters=EXCLUDED_CHARACTERS)["RandomPassword"]
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps({**current, "password": password}),
                        VersionStages=[PENDING])


def set_secret(sm, arn, token):
    pending = _value(sm, arn, PENDING, token)
    probe = _connect(pending, quiet=True)
    if probe:
        probe.close()
        return  # a retried setSecret: the database already takes the pending password
    conn = _connect(_value(sm, arn, CURRENT), quiet=True) or _previous(sm, arn)
    if conn is None:
        raise RotationError(f"neither the current nor the previous password of {arn} signs in")
    with conn:
        user = pending["username"]
        verifier = conn.pgconn.encrypt_password(pending["password"].encode(), user.encode(), b"scram-sha-256").decode()
        conn.execute(sql.SQL("ALTER USER {} WITH PASSWORD {}").format(sql.Identifier(user), sql.Literal(verifier)))


def _previous(sm, arn):
    try:
        return _connect(_value(sm, arn, PREVIOUS), quiet=True)
    except sm.exceptions.ResourceNotFoundException:
        return None


def test_secret(sm, arn, token):
    with _connect(_value(sm, arn, PENDING, token)) as conn:
        conn.execute("SELECT 1").fetchone()


def finish_secret(sm, arn, token):
    versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next(v for v, stages in versions.items() if CURRENT in stages)
    if current != token:
        sm.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current)
    # AWSPENDING on no version: the next RotateSecret sees no rotation in progress.
    if PENDING in versions[token]:
        sm.update_secret_version_stage(SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=token)


def _ca_file():
    """The RDS CA bundle, downloaded once per container over verified HTTPS."""
    if not os.path.exists(CA_FILE):
        with urllib.request.urlopen(os.environ["CA_BUNDLE_URL"], timeout=CONNECT_TIMEOUT_SECONDS) as response:
            data = response.read()
        with open(CA_FILE + ".part", "wb") as f:
            f.write(data)
        os.replace(CA_FILE + ".part", CA_FILE)
    return CA_FILE


def _connect(value, quiet=False):
    """A TLS connection with the secret's credentials; with quiet, None when they are refused."""
    try:
        return psycopg.connect(
            host=value["host"], port=value["port"], dbname=value["dbname"], user=value["username"], password=value["password"],
            sslmode="verify-full", sslrootcert=_ca_file(), connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="canalco-rotation", autocommit=True,
        )
    except psycopg.OperationalError as e:
        if quiet and "password authentication failed" in str(e):
            return None
        raise
