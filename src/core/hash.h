/* Internal: the library's one byte-string hash and one 64-bit mixer, for
 * hash tables of keys, dictionary values and names. Not installed. */
#ifndef GF_CORE_HASH_H
#define GF_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

/* 64-bit hash of n bytes at p (XXH3, inlined: callers run it once per row).
 * p may be NULL when n is 0. */
static inline uint64_t gfi_hash_bytes(const void *p, size_t n) {
  return XXH3_64bits(n ? p : NULL, n);
}

/* The one 64-bit mixer (murmur3's finaliser): spreads integer keys and
 * combines hashes of several key columns. */
static inline uint64_t gfi_mix64(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

#endif /* GF_CORE_HASH_H */
