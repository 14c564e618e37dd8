"""The rotation function's four steps against a real PostgreSQL 15 with TLS (tests/postgres.py)
and moto's Secrets Manager: RotateSecret creates the AWSPENDING version and invokes the function
once per step ("How rotation works", Secrets Manager user guide); moto's Lambda invoke is
replaced by a call to the handler in this process.

Runs with the other Lambda tests (`make test`): python3 with boto3 and moto, and Debian's
psycopg linked in by scripts/test-deps.sh.
"""

import importlib.util
import io
import json
import os
import pathlib
import sys
import unittest
import zipfile
from unittest import mock

import boto3
import psycopg
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from tests import postgres

if not postgres.available():  # never skipped: make test installs them (scripts/test-deps.sh)
    raise ImportError("postgresql-15 and openssl are needed: run scripts/test-deps.sh")

FUNCTIONS = pathlib.Path(__file__).resolve().parents[1]
REGION = "us-east-1"
SECRET = "canalco-prod-postgres-master"
FIRST_PASSWORD = "first-password-Of-the-program-1"
CLUSTER = None


def _load_handler():
    for folder in ("rotation", "shared"):
        if str(FUNCTIONS / folder) not in sys.path:
            sys.path.insert(0, str(FUNCTIONS / folder))
    spec = importlib.util.spec_from_file_location("rotation_handler", FUNCTIONS / "rotation" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rotation = _load_handler()


def setUpModule():
    global CLUSTER
    CLUSTER = postgres.Cluster(password=FIRST_PASSWORD).start()
    CLUSTER.psql("CREATE DATABASE canalco")
    # Every statement logged: the password must never appear in the server's log.
    CLUSTER.psql("ALTER SYSTEM SET log_statement = 'all'")
    CLUSTER.psql("SELECT pg_reload_conf()")


def tearDownModule():
    CLUSTER.stop()


def signs_in(password):
    try:
        with psycopg.connect(host="localhost", port=CLUSTER.port, dbname="canalco", user=postgres.SUPERUSER, password=password,
                             sslmode="verify-full", sslrootcert=str(CLUSTER.ca_file), connect_timeout=5) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


class RotationTest(unittest.TestCase):
    def setUp(self):
        aws = mock_aws()
        aws.start()
        self.addCleanup(aws.stop)
        patches = [
            mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}),
            mock.patch.object(rotation, "CA_FILE", str(CLUSTER.ca_file)),
        ]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)
        self.sm = boto3.client("secretsmanager", region_name=REGION)
        self.clients = type("Clients", (), {"secretsmanager": self.sm})()
        # What the program creates: the secret, encrypted, and its first version.
        self.arn = self.sm.create_secret(Name=SECRET, SecretString=json.dumps({
            "engine": "postgres", "host": "localhost", "port": CLUSTER.port, "username": postgres.SUPERUSER,
            "password": FIRST_PASSWORD, "dbname": "canalco", "dbInstanceIdentifier": "canalco-prod-postgres",
        }))["ARN"]
        self.first = self.current_version()
        role = boto3.client("iam").create_role(RoleName="canalco-prod-rotation", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as z:
            z.write(FUNCTIONS / "rotation" / "handler.py", "handler.py")
        self.function = boto3.client("lambda").create_function(
            FunctionName="canalco-prod-rotation", Runtime="python3.13", Role=role, Handler="handler.handler",
            Code={"ZipFile": package.getvalue()})["FunctionArn"]

    def tearDown(self):
        # The database takes the first password again, for the next test.
        self.psql(f"ALTER USER {postgres.SUPERUSER} WITH PASSWORD '{FIRST_PASSWORD}'")

    def psql(self, statement):
        """SQL as the master user, with whichever of the secret's passwords the database takes."""
        versions = self.sm.list_secret_version_ids(SecretId=self.arn, IncludeDeprecated=True)["Versions"]
        for v in versions:
            try:
                password = json.loads(self.sm.get_secret_value(SecretId=self.arn, VersionId=v["VersionId"])["SecretString"])["password"]
            except self.sm.exceptions.ResourceNotFoundException:
                continue  # a version RotateSecret created and createSecret never filled
            if signs_in(password):
                CLUSTER.password = password
                return CLUSTER.psql(statement)
        raise AssertionError("the database takes none of the secret's passwords")

    def current_version(self):
        stages = self.sm.describe_secret(SecretId=self.arn)["VersionIdsToStages"]
        return next(v for v, labels in stages.items() if "AWSCURRENT" in labels)

    def rotate(self, fail=None):
        """RotateSecret with the rotation function; fail[step] raises instead of that step.
        Returns the rotation's token (the new version's ID)."""
        fail, tokens = fail or {}, []

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            event = json.loads(body)
            tokens.append(event["ClientRequestToken"])
            if event["Step"] in fail:
                raise fail[event["Step"]]
            self.step(event["Step"], event["ClientRequestToken"])
            return b""

        with mock.patch.object(LambdaBackend, "invoke", invoke):
            try:
                self.sm.rotate_secret(SecretId=self.arn, RotationLambdaARN=self.function, RotationRules={"AutomaticallyAfterDays": 30})
            except Exception:
                if not fail:
                    raise
        return tokens[0]

    def step(self, name, token):
        """One invocation, as Secrets Manager (or Lambda's retry of it) makes it."""
        rotation.handler({"SecretId": self.arn, "ClientRequestToken": token, "Step": name}, None, clients=self.clients)

    def value(self, stage):
        return json.loads(self.sm.get_secret_value(SecretId=self.arn, VersionStage=stage)["SecretString"])

    def stages(self):
        return self.sm.describe_secret(SecretId=self.arn)["VersionIdsToStages"]

    def test_four_steps_rotate_the_password(self):
        seen = {}

        def after(step, token):
            seen[step] = {"pending": self.pending(token), "current": self.value("AWSCURRENT")["password"],
                          "first_signs_in": signs_in(FIRST_PASSWORD)}

        with mock.patch.object(self, "step", wraps=self.step) as step:
            step.side_effect = lambda name, token: (RotationTest.step(self, name, token), after(name, token))
            token = self.rotate()
        self.assertEqual(["createSecret", "setSecret", "testSecret", "finishSecret"], [c.args[0] for c in step.call_args_list])
        pending = seen["createSecret"]["pending"]
        self.assertNotEqual(FIRST_PASSWORD, pending)
        self.assertEqual(40, len(pending))
        self.assertFalse(set(pending) & set("/\"@ '\\"), "RDS refuses / \" @ and space in a master password")
        # After createSecret and setSecret AWSCURRENT is still the first password; the
        # database takes it until setSecret, and the pending one after.
        self.assertEqual(FIRST_PASSWORD, seen["createSecret"]["current"])
        self.assertTrue(seen["createSecret"]["first_signs_in"])
        self.assertEqual(FIRST_PASSWORD, seen["setSecret"]["current"])
        self.assertFalse(seen["setSecret"]["first_signs_in"])
        self.assertEqual(pending, seen["finishSecret"]["current"])

        stages = self.stages()
        self.assertIn("AWSCURRENT", stages[token])
        self.assertIn("AWSPREVIOUS", stages[self.first])
        self.assertTrue(signs_in(pending))
        self.assertFalse(signs_in(FIRST_PASSWORD))
        # Everything but the password is kept.
        drop = lambda v: {k: x for k, x in v.items() if k != "password"}  # noqa: E731
        self.assertEqual(drop(self.value("AWSPREVIOUS")), drop(self.value("AWSCURRENT")))

        stored = self.psql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{postgres.SUPERUSER}'").strip()
        self.assertIn("SCRAM-SHA-256$", stored)
        log = (CLUSTER.dir / "log").read_text()
        self.assertIn("ALTER USER", log, "log_statement = all records the statement")
        self.assertNotIn(pending, log, "the statement carries a SCRAM verifier, never the password")

        # The next rotation starts from this one's result.
        second = self.rotate()
        self.assertNotEqual(token, second)
        self.assertTrue(signs_in(self.value("AWSCURRENT")["password"]))
        self.assertFalse(signs_in(pending))

    def pending(self, token):
        """The password of the rotation's version."""
        return json.loads(self.sm.get_secret_value(SecretId=self.arn, VersionId=token)["SecretString"])["password"]

    def test_every_step_retried_is_idempotent(self):
        retried = []

        def twice(name, token):
            RotationTest.step(self, name, token)
            before = (self.pending(token), self.stages(), signs_in(self.pending(token)))
            RotationTest.step(self, name, token)
            retried.append((name, before == (self.pending(token), self.stages(), signs_in(self.pending(token)))))

        with mock.patch.object(self, "step", side_effect=twice):
            token = self.rotate()
        self.assertEqual([(s, True) for s in ("createSecret", "setSecret", "testSecret", "finishSecret")], retried,
                         "a second call of each step changes neither the secret, its labels nor the database")
        self.assertEqual(token, next(v for v, s in self.stages().items() if "AWSCURRENT" in s))
        self.assertTrue(signs_in(self.value("AWSCURRENT")["password"]))

    def test_failed_set_step_leaves_the_previous_password_working(self):
        # setSecret fails (the database was unreachable), so testSecret would fail too.
        token = self.rotate(fail={"setSecret": psycopg.OperationalError("connection timed out")})
        with self.assertRaises(psycopg.OperationalError):
            self.step("testSecret", token)
        self.assertEqual(self.first, self.current_version())
        self.assertEqual(FIRST_PASSWORD, self.value("AWSCURRENT")["password"])
        self.assertTrue(signs_in(FIRST_PASSWORD), "the current password still signs in")
        self.assertFalse(signs_in(self.pending(token)))

        # Retried with the same token, the rotation converges.
        for name in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            self.step(name, token)
        self.assertEqual(token, self.current_version())
        self.assertTrue(signs_in(self.value("AWSCURRENT")["password"]))

    def test_failed_test_step_never_moves_the_current_label(self):
        token = self.rotate(fail={"testSecret": psycopg.OperationalError("connection timed out")})
        self.assertEqual(self.first, self.current_version(), "a failed testSecret never moves AWSCURRENT")
        self.assertEqual(FIRST_PASSWORD, self.value("AWSCURRENT")["password"])
        # The retry: setSecret finds the pending password set and does nothing; the rest ends it.
        for name in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            self.step(name, token)
        self.assertEqual(token, self.current_version())
        self.assertTrue(signs_in(self.value("AWSCURRENT")["password"]))

    def test_set_step_signs_in_with_the_previous_password(self):
        # A rotation stopped after its setSecret and was finished by hand with the old password
        # labelled AWSCURRENT again: the database takes AWSPREVIOUS's password only.
        self.rotate()
        self.sm.update_secret_version_stage(SecretId=self.arn, VersionStage="AWSCURRENT", MoveToVersionId=self.first,
                                            RemoveFromVersionId=self.current_version())
        taken = self.value("AWSPREVIOUS")["password"]
        self.assertTrue(signs_in(taken))
        self.rotate()
        self.assertTrue(signs_in(self.value("AWSCURRENT")["password"]))
        self.assertFalse(signs_in(taken))

    def test_refuses_a_token_that_is_not_in_rotation(self):
        token = self.rotate()
        with self.assertRaises(rotation.RotationError):
            self.step("createSecret", "0" * 32 + "-unknown")
        with self.assertRaises(rotation.RotationError):
            self.step("rollBackSecret", self.first)
        self.assertEqual(token, self.current_version())

    def test_refuses_a_secret_without_rotation(self):
        with self.assertRaises(rotation.RotationError):
            self.step("createSecret", self.first)


if __name__ == "__main__":
    unittest.main()
