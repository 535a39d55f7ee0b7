#!/usr/bin/env bash
# check_installed.sh BUILD_DIR SOURCE_DIR CC
#
# Installs a built tree into a scratch prefix and checks it the way a user
# would meet it: the files and their layout, the SONAME, that only gf_*
# symbols are exported and every global symbol of the archive and the
# shared library is gf_* or gfi_*, no -march=native anywhere in what is installed, and
# that examples/quickstart.c builds and runs against it through pkg-config
# (shared and static) and through find_package(GopherFrame) (shared and
# static). Registered as the ctest `install_package`. GF_KEEP_TMP=1 keeps the
# scratch directory for inspection.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR CC" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-install-check.XXXXXX")
cleanup() {
  if [ "${GF_KEEP_TMP:-0}" = 1 ]; then
    echo "install_package: kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

fail() {
  echo "install_package: FAIL: $*" >&2
  exit 1
}
# run LOG CMD...: runs CMD with its output in LOG; on failure shows the log.
run() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "install_package: command failed: $*" >&2
    sed 's/^/  | /' "$log" >&2
    fail "see the output above"
  fi
}
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is not installed (scripts/install-deps)"; }
need cmake
need pkg-config
need readelf
need nm

prefix=$tmp/prefix
echo "install_package: installing $build into $prefix"
run "$tmp/install.log" cmake --install "$build" --prefix "$prefix"

# --- layout -----------------------------------------------------------------
libdir=
for d in "$prefix"/lib "$prefix"/lib64 "$prefix"/lib/*-linux-gnu*; do
  if [ -e "$d/libgopherframe.so" ]; then libdir=$d; break; fi
done
[ -n "$libdir" ] || fail "no libgopherframe.so under $prefix/lib* (install log: $(tr '\n' ' ' <"$tmp/install.log"))"

expect_file() { [ -f "$1" ] || fail "missing installed file ${1#"$prefix"/}"; }
expect_file "$libdir/libgopherframe.so.0.1"
expect_file "$libdir/libgopherframe.a"
expect_file "$prefix/include/gopherframe.h"
for h in "$src"/include/gopherframe/*.h; do expect_file "$prefix/include/gopherframe/${h##*/}"; done
expect_file "$libdir/pkgconfig/gopherframe.pc"
expect_file "$libdir/cmake/GopherFrame/GopherFrameConfig.cmake"
expect_file "$libdir/cmake/GopherFrame/GopherFrameConfigVersion.cmake"
[ -L "$libdir/libgopherframe.so" ] || fail "libgopherframe.so should be a symlink to the versioned library"

soname=$(readelf -d "$libdir/libgopherframe.so.0.1" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libgopherframe.so.0.1" ] ||
  fail "SONAME is '$soname', expected libgopherframe.so.0.1 (0.x: MAJOR.MINOR)"

# --- exported symbols: gf_* only ------------------------------------------------
# The linker's own markers may show up in the dynamic symbol table.
nm -D --defined-only "$libdir/libgopherframe.so.0.1" | awk '{print $NF}' | sort >"$tmp/symbols"
grep -qx gf_version "$tmp/symbols" || fail "gf_version is not exported"
stray=$(grep -v -e '^gf_' -e '^_init$' -e '^_fini$' -e '^_edata$' -e '^_end$' -e '^__bss_start$' "$tmp/symbols" || true)
[ -z "$stray" ] || fail "symbols exported without the gf_ prefix (make them static or gfi_ under hidden visibility): $(tr "\n" " " <<<"$stray")"
echo "install_package: $(wc -l <"$tmp/symbols") exported symbols, all gf_*"

# --- every global symbol is gf_* or gfi_* (static archive and shared library) ---
# Hidden gfi_ symbols are not exported, but a static link puts every global
# of the archive into the user's program, where an unprefixed name (fb_root,
# gb_take) may collide with the user's own.
for lib in "$libdir/libgopherframe.a" "$libdir/libgopherframe.so.0.1"; do
  nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/globals"
  [ -s "$tmp/globals" ] || fail "nm lists no global symbols in ${lib##*/}"
  stray=$(grep -v -e '^gf_' -e '^gfi_' -e '^_init$' -e '^_fini$' -e '^_edata$' -e '^_end$' \
    -e '^__bss_start$' "$tmp/globals" || true)
  [ -z "$stray" ] || fail "${lib##*/} defines global symbols without the gf_/gfi_ prefix (make them static or rename them gfi_*): $(tr "\n" " " <<<"$stray")"
  echo "install_package: ${lib##*/}: $(wc -l <"$tmp/globals") global symbols, all gf_*/gfi_*"
done

# --- never -march=native in what is installed -----------------------------------
if grep -rl -e 'march=native' -e 'mtune=native' "$prefix" >"$tmp/native" 2>/dev/null; then
  fail "-march=native found in: $(sed "s|$prefix/||" "$tmp/native" | tr '\n' ' ')"
fi

# --- the headers stand alone under strict C11 -------------------------------
# (testing.h, the failing allocator for tests, is installed but not part of
# <gopherframe.h>.)
printf '#include <gopherframe.h>\n#include <gopherframe/testing.h>\nint main(void) { return GF_VERSION_MAJOR; }\n' >"$tmp/header_only.c"
run "$tmp/header.log" "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -I"$prefix/include" \
  -c "$tmp/header_only.c" -o "$tmp/header_only.o"

# run_example NAME OUT CMD...: runs a built quickstart; it must succeed and
# print its table.
run_example() {
  local name=$1 out=$2 rc=0
  shift 2
  "$@" >"$out" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    sed 's/^/  | /' "$out" >&2
    fail "$name: quickstart exited with status $rc"
  fi
  for want in 'shape: (3, 3)' id name score ada grace null 9.5 7.25; do
    grep -qF -- "$want" "$out" || {
      sed 's/^/  | /' "$out" >&2
      fail "$name: output lacks '$want'"
    }
  done
  echo "install_package: $name ok"
}

# --- pkg-config ------------------------------------------------------------------
export PKG_CONFIG_PATH=$libdir/pkgconfig
# pkgconf would otherwise strip -I/-L paths it considers system paths.
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR || true
version=$(pkg-config --modversion gopherframe) || fail "pkg-config cannot read gopherframe.pc"
[ "$version" = "$(sed -n 's/^#define GF_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/gopherframe/core.h")" ] ||
  fail "gopherframe.pc says version $version, the header says otherwise"
cflags=$(pkg-config --cflags gopherframe)
libs=$(pkg-config --libs gopherframe)
# The flags must point into the prefix the package was installed in (a .pc
# may use ${pcfiledir}, so compare resolved paths).
# flag_dir_is PREFIXFLAG FLAGS DIR: some PREFIXFLAG<path> in FLAGS resolves to DIR.
flag_dir_is() {
  local f
  for f in $2; do
    case $f in
    "$1"*) [ "$(realpath -m "${f#"$1"}")" = "$(realpath -m "$3")" ] && return 0 ;;
    esac
  done
  return 1
}
flag_dir_is -I "$cflags" "$prefix/include" ||
  fail "pkg-config --cflags gives '$cflags', not -I$prefix/include: gopherframe.pc is not relocatable (installed with --prefix $prefix)"
flag_dir_is -L "$libs" "$libdir" ||
  fail "pkg-config --libs gives '$libs', not -L$libdir: gopherframe.pc is not relocatable (installed with --prefix $prefix)"

# shellcheck disable=SC2086  # flags are word lists
run "$tmp/pc.log" "$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/quickstart.c" \
  $cflags $libs -o "$tmp/quickstart_pc"
LD_LIBRARY_PATH=$libdir ldd "$tmp/quickstart_pc" >"$tmp/ldd" 2>&1 || true
grep -q "libgopherframe.so.0.1 => $libdir/" "$tmp/ldd" ||
  fail "quickstart (pkg-config) does not load the installed libgopherframe.so.0.1: $(tr '\n' ' ' <"$tmp/ldd")"
run_example "pkg-config, shared" "$tmp/pc.out" env LD_LIBRARY_PATH="$libdir" "$tmp/quickstart_pc"

# Static: the same flags with --static, the archive picked explicitly.
slibs=$(pkg-config --static --libs gopherframe)
slibs=${slibs/-lgopherframe/-l:libgopherframe.a}
# shellcheck disable=SC2086
run "$tmp/pcs.log" "$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/quickstart.c" \
  $cflags $slibs -o "$tmp/quickstart_static"
if grep -q 'NEEDED.*libgopherframe' <<<"$(readelf -d "$tmp/quickstart_static")"; then
  fail "the static build still needs libgopherframe.so"
fi
run_example "pkg-config --static" "$tmp/pcs.out" "$tmp/quickstart_static"

# --- CMake package ------------------------------------------------------------------
for variant in shared static; do
  b=$tmp/cmake-$variant
  opt=OFF
  [ $variant = static ] && opt=ON
  run "$tmp/cmake-$variant-configure.log" cmake -S "$src/examples/cmake" -B "$b" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DQUICKSTART_STATIC=$opt
  run "$tmp/cmake-$variant-build.log" cmake --build "$b"
  if [ $variant = shared ]; then
    ldd "$b/quickstart" >"$tmp/ldd" 2>&1 || true
    grep -q "libgopherframe.so.0.1 => $libdir/" "$tmp/ldd" ||
      fail "quickstart (CMake) does not load the installed libgopherframe.so.0.1: $(tr '\n' ' ' <"$tmp/ldd")"
  fi
  run_example "find_package(GopherFrame), $variant" "$tmp/cmake-$variant.out" "$b/quickstart"
done

echo "install_package: PASS"
