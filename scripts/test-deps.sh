#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, on a fresh Debian machine, and does nothing when it
# is all there already. The Lambda tests run on `python3` (3.11) with the pinned boto3, botocore and
# moto below, and import Debian's report libraries through build/test-python/ (see the end).
set -euo pipefail
cd "$(dirname "$0")/.."

# One package a line; the tests that need each one say why.
debian_packages=(
  shellcheck          # lints the rendered instance boot scripts (compute tests)
  postgresql          # runs the backend role's SQL on a throwaway cluster (compute TestAppRoleSQLOnPostgres)
  python3-botocore    # AWS's API models the Go tests read (offline/apimodel.go, compute tests)
  python3-xlsxwriter  # writes the reports' xlsx (serverless/functions/tests/test_reports.py)
  python3-reportlab   # writes the reports' pdf (test_reports.py)
  python3-openpyxl    # reads the xlsx back: cell types, number formats, panes, filter (test_reports.py)
  python3-pypdf       # reads the pdf back: pages, header and totals text (test_reports.py)
  python3-wheel       # builds the local wheel test_build_layers.py packs into a layer, offline
  python3-psycopg     # the restore-check function's driver in that test (psycopg 3.1; Lambda gets 3.x from its requirements)
  openssl             # makes the test CA and server certificate, so sslmode=verify-full is exercised
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The offline IAM check (go test ./review/iam) runs AWS's IAM dataset and policy evaluator from
# npm, pinned in review/iam/package-lock.json; npm ci installs them again when the lockfile is
# newer than the installed tree (npm writes node_modules/.package-lock.json as it installs).
iam=review/iam
if [ ! -f "$iam/node_modules/.package-lock.json" ] || [ "$iam/package-lock.json" -nt "$iam/node_modules/.package-lock.json" ]; then
  echo "test-deps: npm ci in $iam"
  (cd "$iam" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi

# The Lambda tests: boto3, botocore and moto at these versions on `python3`. Their clients check
# every call against botocore's current models, close to what Lambda's python3.13 runtime ships.
python_pins=(boto3==1.43.11 botocore==1.43.11 moto==5.2.1)
python=python3
pinned() {
  "$python" - "${python_pins[@]}" <<'PY'
import importlib.metadata, sys
wrong = []
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    try:
        found = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        found = "missing"
    if found != version:
        wrong.append(f"{pin} (found {found})")
print(", ".join(wrong))
sys.exit(1 if wrong else 0)
PY
}
if ! wrong=$(pinned); then
  echo "test-deps: installing $wrong on $("$python" -c 'import sys; print(sys.executable)')"
  # --user: the interpreter may be Debian's, whose own directories belong to apt (PEP 668).
  if ! "$python" -m pip install --quiet --disable-pip-version-check --user --break-system-packages "${python_pins[@]}" || ! wrong=$(pinned); then
    echo "test-deps: the Lambda tests need ${python_pins[*]} on $python, and pip could not install them ($wrong)." >&2
    echo "test-deps: install them from a reachable package index or wheel directory: $python -m pip install ${python_pins[*]}" >&2
    exit 1
  fi
fi

# Debian's report libraries are built for Debian's Python 3.11 (reportlab and Pillow carry C
# extensions), so python3 must be a 3.11 too. Only these modules are linked into
# build/test-python/, which the Makefile puts on PYTHONPATH: the rest of dist-packages (its
# botocore 1.29 above all) stays out of the tests' way.
debian_python=/usr/lib/python3/dist-packages
if [ "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ]; then
  echo "test-deps: $python and Debian's /usr/bin/python3 must be the same minor version (Debian's report libraries are built for it)" >&2
  exit 1
fi
# module:distribution (its metadata goes along: wheel's bdist_wheel command is an entry point).
modules=(
  xlsxwriter:XlsxWriter reportlab:reportlab PIL:Pillow  # write the reports (ReportLab needs Pillow)
  openpyxl:openpyxl et_xmlfile:et_xmlfile pypdf:pypdf   # read them back in the tests
  psycopg:psycopg                                       # the restore check's driver (test_restore_check.py)
  wheel:wheel                                           # builds test_build_layers.py's local wheel
)
link_dir=build/test-python
rm -rf "$link_dir"
mkdir -p "$link_dir"
for entry in "${modules[@]}"; do
  module=${entry%%:*} dist=${entry#*:}
  metadata=("$debian_python/$dist"-*.egg-info "$debian_python/$dist"-*.dist-info)
  found=()
  for m in "$debian_python/$module" "${metadata[@]}"; do
    [ -e "$m" ] && found+=("$m")
  done
  if [ "${#found[@]}" -lt 2 ]; then
    echo "test-deps: $module or its metadata ($dist-*) is missing from $debian_python" >&2
    exit 1
  fi
  ln -s "${found[@]}" "$link_dir/"
done
