#!/usr/bin/env python3
"""Build each Lambda function's dependency layer: `make lambdas`.

For every serverless/functions/<fn>/requirements.txt, pip installs the pinned packages for the
functions' runtime (CPython 3.13 on arm64, binary wheels only) into a staging folder, and the
folder is zipped as build/layers/<fn>.zip with Lambda's layer layout (python/...). A function
without requirements.txt gets no layer. Beside each zip, <fn>.json records the SHA-256 of the
requirements it was built from and of the zip: the Pulumi program refuses to deploy a layer
that is missing or was built from other requirements (serverless/code.go).

The zip is deterministic: entries sorted, every timestamp 1980-01-01, every file mode 0644 (0755
when executable), no bytecode caches. The same requirements and wheels give the same bytes on
any machine, so an unchanged layer is never uploaded again.

Requirements must pin every package exactly (name==version), dependencies included, because
`--no-deps` installs only what is listed: nothing is resolved at build time. With a hash on
every line pip also runs in --require-hashes mode.
"""

import argparse
import hashlib
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "serverless" / "functions"
OUT = ROOT / "build" / "layers"
# The functions' runtime and architecture (serverless/function.go). Lambda's python3.13 runs
# on Amazon Linux 2023 (glibc 2.34): manylinux2014 and manylinux_2_28 wheels both load there.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
PYTHON_VERSION = "3.13"
# The oldest timestamp a zip can hold: the same for every build.
EPOCH = (1980, 1, 1, 0, 0, 0)
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+(\s+--hash=sha256:[0-9a-f]{64})*$")


def requirements(path):
    """The requirement lines; every one must be an exact pin."""
    lines = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        if not _PIN.fullmatch(line):
            raise SystemExit(f"{path}:{number}: {raw.strip()!r} is not an exact pin (name==x.y.z [--hash=sha256:...])")
        lines.append(line)
    return lines


def pip_command(requirements_file, target, extra):
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--root-user-action=ignore",
               "--no-compile", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", PYTHON_VERSION, "--target", str(target), "-r", str(requirements_file)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    return command + list(extra)


def zip_folder(folder, destination):
    """Zip folder's files under python/, deterministically."""
    files = {
        "python/" + path.relative_to(folder).as_posix(): path for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(files.items()):
            info = zipfile.ZipInfo(name, EPOCH)
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3  # Unix, so that the mode above is read
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(function, requirements_file, out, extra):
    requirements(requirements_file)
    with tempfile.TemporaryDirectory() as staging:
        target = pathlib.Path(staging) / "python"
        subprocess.run(pip_command(requirements_file, target, extra), check=True)
        zipped = out / f"{function}.zip"
        zip_folder(target, zipped)
    manifest = {"requirements_sha256": sha256(requirements_file), "zip_sha256": sha256(zipped),
                "python_version": PYTHON_VERSION, "platforms": list(PLATFORMS)}
    (out / f"{function}.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return zipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", type=pathlib.Path, default=FUNCTIONS)
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    parser.add_argument("--pip-arg", action="append", default=[], help="extra pip argument (e.g. --no-index)")
    args = parser.parse_args(argv)

    if args.out.exists():
        shutil.rmtree(args.out)  # a function that lost its requirements must lose its layer
    args.out.mkdir(parents=True)
    for requirements_file in sorted(args.functions.glob("*/requirements.txt")):
        function = requirements_file.parent.name
        zipped = build(function, requirements_file, args.out, args.pip_arg)
        print(f"{function}: {zipped} ({os.path.getsize(zipped)} bytes)")


if __name__ == "__main__":
    main()
