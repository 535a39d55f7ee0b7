/*
 * UTF-8 validation, the one copy every module uses (C Data import, array
 * validation, the CSV reader). Not installed.
 */
#ifndef GF_CORE_UTF8_H
#define GF_CORE_UTF8_H

#include <stdbool.h>
#include <stdint.h>

/* Byte position in s[0, n) of the first byte of the first sequence that is
 * not well-formed UTF-8 as RFC 3629 defines it (no overlong forms, no
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequence
 * at the end), or -1 when all n bytes are valid. Reads only s[0, n); s may
 * be NULL when n is 0. */
int64_t gfi_utf8_error_at(const uint8_t *s, int64_t n);

/* True when s[0, n) is well-formed UTF-8 (see gfi_utf8_error_at). */
static inline bool gfi_utf8_valid(const char *s, int64_t n) {
  return gfi_utf8_error_at((const uint8_t *)s, n) < 0;
}

#endif /* GF_CORE_UTF8_H */
