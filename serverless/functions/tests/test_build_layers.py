"""scripts/build_layers.py (`make lambdas`), offline: pip installs wheels built here from tiny
local packages (--no-index --find-links), with the same platform flags the deploy uses."""

import hashlib
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("build_layers", ROOT / "scripts" / "build_layers.py")
build_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_layers)


def make_wheel(where, name, wheels):
    """A pure-Python wheel of a one-module package, built offline with setuptools."""
    package = where / f"src-{name}"
    (package / name).mkdir(parents=True)
    (package / name / "__init__.py").write_text("VALUE = 1\n")
    (package / name / "tool.sh").write_text("#!/bin/sh\n")
    (package / name / "tool.sh").chmod(0o775)
    (package / "setup.py").write_text(
        f"from setuptools import setup\nsetup(name={name!r}, version='1.0.0', packages=[{name!r}],"
        f" package_data={{{name!r}: ['tool.sh']}})\n"
    )
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(wheels), str(package)], check=True, capture_output=True)
    (wheel,) = wheels.glob(f"{name}-1.0.0-*.whl")
    return wheel


class BuildLayersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = pathlib.Path(tempfile.mkdtemp())
        cls.wheels = cls.tmp / "wheels"
        make_wheel(cls.tmp, "tinypkg", cls.wheels)
        # The same wheel under an x86_64 tag: the arm64 build must refuse it.
        other = make_wheel(cls.tmp, "intelonly", cls.wheels)
        other.rename(cls.wheels / "intelonly-1.0.0-cp313-cp313-manylinux2014_x86_64.whl")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def functions(self, **requirements):
        folder = pathlib.Path(tempfile.mkdtemp(dir=self.tmp))
        for function, text in requirements.items():
            (folder / function).mkdir()
            (folder / function / "handler.py").write_text("")
            if text is not None:
                (folder / function / "requirements.txt").write_text(text)
        return folder

    def build(self, functions, out):
        build_layers.main(["--functions", str(functions), "--out", str(out), "--pip-arg=--no-index",
                           f"--pip-arg=--find-links={self.wheels}"])

    def test_layout_manifest_and_only_functions_with_requirements(self):
        functions = self.functions(demo="# the demo's layer\ntinypkg==1.0.0  # pinned\n", plain=None)
        out = self.tmp / "out-layout"
        self.build(functions, out)

        self.assertEqual(sorted(p.name for p in out.iterdir()), ["demo.json", "demo.zip"])
        with zipfile.ZipFile(out / "demo.zip") as archive:
            infos = archive.infolist()
        names = [info.filename for info in infos]
        self.assertEqual(names, sorted(names))
        self.assertIn("python/tinypkg/__init__.py", names)
        self.assertIn("python/tinypkg-1.0.0.dist-info/METADATA", names)
        self.assertFalse([n for n in names if not n.startswith("python/") or n.endswith(".pyc") or "__pycache__" in n])
        for info in infos:
            self.assertEqual(info.date_time, (1980, 1, 1, 0, 0, 0))
            expected = 0o755 if info.filename.endswith("tool.sh") else 0o644
            self.assertEqual((info.external_attr >> 16) & 0o7777, expected, info.filename)
        manifest = json.loads((out / "demo.json").read_text())
        self.assertEqual(manifest["requirements_sha256"],
                         hashlib.sha256((functions / "demo" / "requirements.txt").read_bytes()).hexdigest())
        self.assertEqual(manifest["zip_sha256"], hashlib.sha256((out / "demo.zip").read_bytes()).hexdigest())
        self.assertEqual(manifest["python_version"], "3.13")

    def test_two_builds_give_the_same_bytes(self):
        functions = self.functions(demo="tinypkg==1.0.0\n")
        first, second = self.tmp / "out-1", self.tmp / "out-2"
        self.build(functions, first)
        old = os.umask(0o077)  # another machine's umask and clock must not show in the zip
        try:
            os.utime(functions / "demo" / "requirements.txt", (0, 0))
            self.build(functions, second)
        finally:
            os.umask(old)
        self.assertEqual((first / "demo.zip").read_bytes(), (second / "demo.zip").read_bytes())

    def test_the_build_targets_python_3_13_on_arm64(self):
        command = build_layers.pip_command(pathlib.Path("r.txt"), pathlib.Path("t"), [])
        for flags in (["--platform", "manylinux2014_aarch64"], ["--python-version", "3.13"], ["--implementation", "cp"],
                      ["--only-binary=:all:"], ["--no-deps"]):
            self.assertTrue(any(command[i:i + len(flags)] == flags for i in range(len(command))), flags)
        out = self.tmp / "out-intel"
        with self.assertRaises(subprocess.CalledProcessError):
            self.build(self.functions(demo="intelonly==1.0.0\n"), out)

    def test_requirements_must_be_exact_pins(self):
        cases = ["tinypkg\n", "tinypkg>=1.0\n", "-e ./src\n", "tinypkg==1.0.0 --hash=md5:abc\n"]
        for text in cases:
            with self.subTest(text=text), self.assertRaisesRegex(SystemExit, "is not an exact pin"):
                self.build(self.functions(demo=text), self.tmp / "out-pins")

    def test_a_function_that_lost_its_requirements_loses_its_layer(self):
        out = self.tmp / "out-stale"
        self.build(self.functions(demo="tinypkg==1.0.0\n"), out)
        self.build(self.functions(demo=None), out)
        self.assertEqual(list(out.iterdir()), [])


if __name__ == "__main__":
    unittest.main()
