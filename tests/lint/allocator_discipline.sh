#!/usr/bin/env bash
# Fails when any object file of the library (other than the default
# allocator's) calls the C heap directly: every byte the library takes must
# go through a gf_allocator so that memory limits and the failing allocator
# see it. Usage: allocator_discipline.sh NM OBJECT_DIR
# One exception, checked rather than assumed: xxhash's inline
# implementation (core/hash.h) defines static XXH_malloc/XXH_free for its
# streaming state, which the library never uses; an optimising build drops
# them, gcc at -O0 (scripts/coverage) keeps them. A reference is allowed
# only when objdump shows that every call to the heap in that object is
# made from inside XXH_malloc or XXH_free.
set -euo pipefail
nm_tool=$1
dir=$2
allowed='src/core/allocator.c.o'
heap='malloc|calloc|realloc|reallocarray|free|strdup|strndup|posix_memalign|aligned_alloc|memalign|valloc|pvalloc'
objects=$(find "$dir" -name '*.c.o' | sort)
[ -n "$objects" ] || { echo "no object files under $dir" >&2; exit 1; }
bad=0
checked=0
for o in $objects; do
  checked=$((checked + 1))
  case $o in */$allowed) continue ;; esac
  syms=$("$nm_tool" -u "$o" | awk '{print $NF}' | sed 's/@.*//' | grep -xE "$heap" || true)
  if [ -n "$syms" ]; then
    # Which functions hold the relocations to the heap functions?
    callers=$(objdump -dr "$o" 2>/dev/null | awk -v heap="^($heap)([-+@].*)?$" '
      /^[0-9a-f]+ <[^>]+>:$/ { fn = $2; gsub(/[<>:]/, "", fn) }
      /R_X86_64_(PLT32|PC32|GOTPCREL|GOTPCRELX|REX_GOTPCRELX)/ { if ($NF ~ heap) print fn }' | sort -u)
    others=$(grep -vxE 'XXH_malloc|XXH_free' <<<"$callers" || true)
    if [ -z "$callers" ] || [ -n "$others" ]; then
      echo "${o#"$dir"/}: calls $(echo $syms | tr ' ' ',') directly (use gf_alloc/gfi_malloc/gfi_vec)${others:+ from: $(echo $others | tr ' ' ',')}"
      bad=1
    fi
  fi
done
# The check must look at what it claims to: the allocator itself does use the heap.
"$nm_tool" -u "$(echo "$objects" | grep "/$allowed\$")" | grep -qwE 'posix_memalign' ||
  { echo "allocator.c.o not found or no longer calls posix_memalign: check is blind" >&2; exit 1; }
[ $bad = 0 ] && echo "ok: $checked objects, only $allowed touches the C heap"
exit $bad
