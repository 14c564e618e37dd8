#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, on a fresh Debian machine, and does nothing when it
# is all there already. The Lambda tests run on Debian's python3 (/usr/bin/python3), because the
# report and validation libraries and botocore's service models come from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# One package a line; the tests that need each one say why.
debian_packages=(
  shellcheck          # lints the rendered instance boot scripts (compute tests)
  python3-botocore    # AWS's API models: offline/botocore_test.go checks every name and bounded value
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
