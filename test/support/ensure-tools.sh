#!/usr/bin/env bash
# Runs before `npm test`: the script tests use real bash, rclone, tar, gzip, awk and
# shellcheck, and the parity tests unzip a Helm binary. It only checks: each missing tool
# is named with the Debian package that provides it. (.ci/run installs them on CI.)
set -euo pipefail
declare -A package=([rclone]=rclone [shellcheck]=shellcheck [unzip]=unzip [tar]=tar [gzip]=gzip [awk]=gawk)
missing=()
for tool in "${!package[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package[$tool]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "pretest: the tests need these tools, which are missing: ${missing[*]}" >&2
echo "pretest: install them with your package manager (Debian: apt-get install -y ${missing[*]})" >&2
exit 1
