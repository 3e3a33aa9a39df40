#!/usr/bin/env bash
# Install the Debian packages vxsave needs to build, test and run; skip what is present.
# Called by the Makefile before every entry point. Safe to run repeatedly.
set -euo pipefail

# package name -> a file or command that proves it is installed
declare -A probe=(
	[cmake]=/usr/bin/cmake
	[ninja-build]=/usr/bin/ninja
	[pkg-config]=/usr/bin/pkg-config
	[libcmocka-dev]=/usr/include/cmocka.h
	[libjansson-dev]=/usr/include/jansson.h
	[cpuid]=/usr/bin/cpuid
)

missing=()
for pkg in "${!probe[@]}"; do
	[ -e "${probe[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
