#!/usr/bin/env bash
# Runs before `npm test`: the script tests use real bash, rclone, tar and shellcheck,
# and the parity tests unzip a Helm binary. On a Debian machine where we are root, the
# missing ones are installed; anywhere else, each missing tool is named.
set -euo pipefail
declare -A package=([rclone]=rclone [shellcheck]=shellcheck [unzip]=unzip [tar]=tar [gzip]=gzip [awk]=gawk)
missing=()
for tool in "${!package[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package[$tool]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "pretest: the tests need these tools, which are missing: ${missing[*]}" >&2
echo "pretest: install them with your package manager (Debian: apt-get install -y ${missing[*]})" >&2
exit 1
