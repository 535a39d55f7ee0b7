/*
 * Parsing sort specs ("k desc, v nulls first") for gf_sort and the CLI.
 * The result is one block: a size header, the key array, then the names.
 */
#include <ctype.h>
#include <string.h>

#include "ops/sort_join_internal.h"

#define HEADER 16 /* keeps the key array aligned past the size word */

/* Case-insensitive match of keyword `kw` at s[*pos], followed by a word
 * boundary; advances *pos on success. */
static bool keyword(const char *s, size_t *pos, const char *kw) {
  size_t n = strlen(kw), i = *pos;
  for (size_t k = 0; k < n; k++)
    if (tolower((unsigned char)s[i + k]) != kw[k]) return false;
  char c = s[i + n];
  if (isalnum((unsigned char)c) || c == '_') return false;
  *pos = i + n;
  return true;
}

static void skip_ws(const char *s, size_t *pos) {
  while (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n' || s[*pos] == '\r') (*pos)++;
}

/* One parsed key before packing: name span (quoted names unescaped later). */
typedef struct span {
  size_t start, len;
  bool quoted;
  bool desc, nulls_first;
} span;

/* Parses text into spans (at most `max`); returns the count or -1. */
static int scan(const char *s, span *out, int max, gf_error *err) {
  size_t pos = 0;
  int n = 0;
  for (;;) {
    skip_ws(s, &pos);
    span sp = {0, 0, false, false, false};
    if (s[pos] == '"') {
      sp.quoted = true;
      sp.start = ++pos;
      for (;;) {
        if (!s[pos]) {
          gf_error_set(err, GF_EPARSE, "sort spec: unterminated quoted name at byte %zu", sp.start - 1);
          return -1;
        }
        if (s[pos] == '"') {
          if (s[pos + 1] == '"') { pos += 2; continue; }
          break;
        }
        pos++;
      }
      sp.len = pos - sp.start;
      pos++;
    } else {
      sp.start = pos;
      while (s[pos] && s[pos] != ',' && s[pos] != ' ' && s[pos] != '\t' &&
             s[pos] != '\n' && s[pos] != '\r')
        pos++;
      sp.len = pos - sp.start;
    }
    if (sp.len == 0) {
      gf_error_set(err, GF_EPARSE, "sort spec: expected a column name at byte %zu", sp.start);
      return -1;
    }
    skip_ws(s, &pos);
    if (keyword(s, &pos, "desc")) sp.desc = true;
    else (void)keyword(s, &pos, "asc");
    skip_ws(s, &pos);
    size_t save = pos;
    if (keyword(s, &pos, "nulls")) {
      skip_ws(s, &pos);
      if (keyword(s, &pos, "first")) sp.nulls_first = true;
      else if (!keyword(s, &pos, "last")) {
        gf_error_set(err, GF_EPARSE, "sort spec: expected 'first' or 'last' after 'nulls' at byte %zu", save);
        return -1;
      }
    }
    skip_ws(s, &pos);
    if (out && n < max) out[n] = sp;
    n++;
    if (!s[pos]) break;
    if (s[pos] != ',') {
      gf_error_set(err, GF_EPARSE, "sort spec: unexpected '%c' at byte %zu", s[pos], pos);
      return -1;
    }
    pos++;
  }
  return n;
}

gf_status gf_sort_keys_parse(const char *text, gf_sort_key **keys, int *nkeys,
                             gf_error *err) {
  if (!text || !keys || !nkeys)
    return gf_error_set(err, GF_EINVAL, "gf_sort_keys_parse: NULL argument");
  int n = scan(text, NULL, 0, err);
  if (n < 0) return GF_EPARSE;
  const gf_allocator *a = gf_default_allocator();
  span *sp = gfi_malloc(a, sizeof *sp * (size_t)n);
  if (!sp) return GF_OOM(err, "sort spec");
  scan(text, sp, n, NULL);
  size_t names = 0;
  for (int i = 0; i < n; i++) names += sp[i].len + 1;
  size_t total = HEADER + sizeof(gf_sort_key) * (size_t)n + names;
  uint8_t *block = gfi_malloc(a, total);
  if (!block) {
    gfi_mfree(a, sp, sizeof *sp * (size_t)n);
    return GF_OOM(err, "sort keys");
  }
  memcpy(block, &total, sizeof total);
  gf_sort_key *k = (gf_sort_key *)(block + HEADER);
  char *name = (char *)(k + n);
  for (int i = 0; i < n; i++) {
    k[i].column = name;
    k[i].descending = sp[i].desc;
    k[i].nulls_first = sp[i].nulls_first;
    for (size_t j = 0; j < sp[i].len; j++) {
      char c = text[sp[i].start + j];
      *name++ = c;
      if (sp[i].quoted && c == '"') j++; /* "" stands for one quote */
    }
    *name++ = '\0';
  }
  gfi_mfree(a, sp, sizeof *sp * (size_t)n);
  *keys = k;
  *nkeys = n;
  return GF_OK;
}

void gf_sort_keys_free(gf_sort_key *keys) {
  if (!keys) return;
  uint8_t *block = (uint8_t *)keys - HEADER;
  size_t total;
  memcpy(&total, block, sizeof total);
  gfi_mfree(gf_default_allocator(), block, total);
}
