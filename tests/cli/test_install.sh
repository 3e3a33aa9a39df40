#!/usr/bin/env bash
# `make install` gives a usable library: headers, shared and static library, a relocatable
# pkg-config file, a CMake package (find_package(vxsave)) and the CLI; a consumer compiles and
# links against it with pkg-config alone and with CMake, and only vx_* symbols are exported from
# the shared library.
set -euo pipefail
: "${BUILDDIR:?}" "${SRCDIR:?}"
command -v pkg-config >/dev/null || { echo "skipped: pkg-config not installed"; exit 77; }

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$BUILDDIR" --prefix "$prefix" >/dev/null

for f in include/vxsave/vxsave.h include/vxsave/arch.h include/vxsave/cpu.h \
	include/vxsave/version.h bin/vxsave share/man/man1/vxsave.1; do
	[ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pc=$(find "$prefix" -name vxsave.pc)
[ -n "$pc" ] || { echo "FAIL: vxsave.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
[ "$(pkg-config --modversion vxsave)" = "$("$prefix/bin/vxsave" --version | awk '{print $2}')" ] ||
	{ echo "FAIL: pkg-config version differs from vxsave --version"; exit 1; }

cat >"$prefix/consumer.c" <<'C'
#include <stdio.h>
#include <vxsave/vxsave.h>
int main(void)
{
	struct vx_profile p;
	struct vx_error err = VX_ERROR_INIT;

	if (vx_profile_builtin(&p, "zen4", &err) != 0) {
		fprintf(stderr, "%s\n", err.reason);
		return 1;
	}
	/* arch.md §10 item 19: AMD Zen 4 with XCR0 0x2E7 needs 2440 bytes. */
	printf("%u\n", vx_standard_size(&p, 0x2e7));
	return 0;
}
C
libdir=$(pkg-config --variable=libdir vxsave)
${CC:-cc} -std=c11 -Wall -Werror ${CONSUMER_CFLAGS:-} "$prefix/consumer.c" $(pkg-config --cflags --libs vxsave) \
	-Wl,-rpath,"$libdir" -o "$prefix/consumer"
out=$("$prefix/consumer")
[ "$out" = 2440 ] || { echo "FAIL: consumer printed '$out', expected 2440"; exit 1; }

# The same consumer through CMake: find_package(vxsave) and both exported targets.
if command -v cmake >/dev/null; then
	mkdir -p "$prefix/cmake-consumer"
	cp "$prefix/consumer.c" "$prefix/cmake-consumer/"
	cat >"$prefix/cmake-consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES C)
find_package(vxsave 0.1 REQUIRED)
add_executable(consumer_shared consumer.c)
target_link_libraries(consumer_shared PRIVATE vxsave::vxsave)
add_executable(consumer_static consumer.c)
target_link_libraries(consumer_static PRIVATE vxsave::vxsave_static)
CMAKE
	cmake -S "$prefix/cmake-consumer" -B "$prefix/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_COMPILER="${CC:-cc}" -DCMAKE_C_FLAGS="${CONSUMER_CFLAGS:-}" \
		-DCMAKE_EXE_LINKER_FLAGS="${CONSUMER_CFLAGS:-}" >"$prefix/cmake.log" 2>&1 ||
		{ cat "$prefix/cmake.log"; echo "FAIL: find_package(vxsave) failed"; exit 1; }
	cmake --build "$prefix/cmake-build" >>"$prefix/cmake.log" 2>&1 ||
		{ cat "$prefix/cmake.log"; echo "FAIL: CMake consumer does not build"; exit 1; }
	for kind in shared static; do
		out=$("$prefix/cmake-build/consumer_$kind")
		[ "$out" = 2440 ] || { echo "FAIL: consumer_$kind printed '$out', expected 2440"; exit 1; }
	done
	# A version the package does not offer is refused.
	sed -i 's/find_package(vxsave 0.1 REQUIRED)/find_package(vxsave 9.0 REQUIRED)/' \
		"$prefix/cmake-consumer/CMakeLists.txt"
	if cmake -S "$prefix/cmake-consumer" -B "$prefix/cmake-build9" \
		-DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
		echo "FAIL: find_package(vxsave 9.0) accepted version $(pkg-config --modversion vxsave)"
		exit 1
	fi
fi

leaked=$(nm -D --defined-only "$libdir/libvxsave.so" | awk '{print $3}' | grep -v '^vx_' || true)
[ -z "$leaked" ] || { echo "FAIL: non-vx_ symbols exported: $leaked"; exit 1; }
echo "install: headers, libraries, pkg-config, CLI and man page usable from $prefix"
echo "1 passed, 0 failed"
