#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, on a fresh Debian machine, and does nothing when it
# is all there already. The Lambda tests run on Debian's python3 (/usr/bin/python3), because the
# report and validation libraries and botocore's service models come from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# One package a line; the tests that need each one say why.
debian_packages=(
  shellcheck          # lints the rendered instance boot scripts (compute tests)
  postgresql          # runs the backend role's SQL on a throwaway cluster (compute TestAppRoleSQLOnPostgres)
  python3-botocore    # ECR's lifecycle policy limits from its API model (compute tests)
  python3-xlsxwriter  # writes the reports' xlsx (serverless/functions/tests/test_reports.py)
  python3-reportlab   # writes the reports' pdf (test_reports.py)
  python3-openpyxl    # reads the xlsx back: cell types, number formats, panes, filter (test_reports.py)
  python3-pypdf       # reads the pdf back: pages, header and totals text (test_reports.py)
  python3-pip         # builds the layers' zips from a local wheel, offline (test_build_layers.py)
  python3-wheel       # builds that local wheel (test_build_layers.py)
  python3-setuptools  # builds that local wheel from its setup.py (test_build_layers.py)
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
