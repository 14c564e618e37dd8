"""A throwaway PostgreSQL 15 cluster with TLS, for the restore check's tests.

It runs Debian's postgresql-15 binaries: initdb into a temporary folder, a certificate authority
and a server certificate for "localhost" made with openssl (so the client's sslmode=verify-full
checks a real chain and host name), TLS-only password logins (scram-sha-256) on 127.0.0.1 and a
free port, and pg_ctl stop at the end. PostgreSQL refuses to run as root: as root the cluster
belongs to the "postgres" user and its commands run through runuser.
"""

import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile

BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "canalco_admin"


def available():
    return (BIN / "initdb").exists() and shutil.which("openssl") is not None


class Cluster:
    def __init__(self, password):
        self.password = password
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="canalco-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.ca_file = self.dir / "ca.pem"
        self.other_ca_file = self.dir / "other-ca.pem"
        self._owner = None
        if os.geteuid() == 0:
            self._owner = pwd.getpwnam("postgres")
        # Tests may clear the environment (mock.patch.dict): the commands keep the one of now.
        self._env = dict(os.environ)
        self._runuser = shutil.which("runuser") or "/usr/sbin/runuser"

    def _run(self, *args, **kwargs):
        cmd = [str(a) for a in args]
        if self._owner:
            cmd = [self._runuser, "-u", self._owner.pw_name, "--"] + cmd
        kwargs.setdefault("env", self._env)
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)

    def start(self):
        self._certificates()
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if self._owner:
            for path in [self.dir, *self.dir.iterdir()]:
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        self._run(BIN / "initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile, "--auth", "scram-sha-256", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.dir}'\n"
                f"ssl = on\nssl_cert_file = '{self.dir / 'server.pem'}'\nssl_key_file = '{self.dir / 'server.key'}'\n"
            )
        # Only TLS connections with a password: a client that skipped TLS would be refused.
        (self.data / "pg_hba.conf").write_text(
            "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "start")
        return self

    def stop(self):
        try:
            self._run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, database="postgres"):
        """Run SQL as the superuser through the cluster's unix socket."""
        return self._run(
            BIN / "psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", self.port, "-U", SUPERUSER,
            "-d", database, "-c", sql, env={**self._env, "PGPASSWORD": self.password},
        ).stdout

    def _certificates(self):
        d = self.dir

        def openssl(*args):
            subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, cwd=d, env=self._env)

        for name in ("ca", "other-ca"):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=test {name}",
                    "-keyout", f"{name}.key", "-out", f"{name}.pem")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
        (d / "san.ext").write_text("subjectAltName = DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
        os.chmod(d / "server.key", 0o600)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
