/* A fixed-capacity hash index from C strings to ints: what makes name
 * lookups and uniqueness checks over thousands of column names linear
 * instead of quadratic (schemas, CSV headers). Keys are borrowed, not
 * copied: they must outlive the index. */
#include <string.h>

#include "core/name_index.h"

#include "core/hash.h"

/* Prepares an index for up to `max_entries` keys (it never grows, so slot
 * pointers stay valid). GF_ENOMEM through `a` (NULL = default). */
gf_status gfi_name_index_init(gfi_name_index *x, int64_t max_entries, const gf_allocator *a,
                              gf_error *err) {
  memset(x, 0, sizeof *x);
  x->alloc = gfi_alloc_or_default(a);
  if (max_entries < 0 || max_entries > (INT64_MAX >> 3))
    return gf_error_set(err, GF_EINVAL, "name index: %lld entries", (long long)max_entries);
  size_t cap = 16;
  while (cap < (size_t)max_entries * 2 + 2) cap *= 2;
  x->slots = gfi_calloc(x->alloc, sizeof *x->slots * cap);
  if (!x->slots) return GF_OOM(err, "a name index");
  x->mask = cap - 1;
  x->max = max_entries;
  return GF_OK;
}

void gfi_name_index_free(gfi_name_index *x) {
  if (x->slots) gfi_mfree(x->alloc, x->slots, sizeof *x->slots * (x->mask + 1));
  x->slots = NULL;
}

/* The slot of `name`: its entry, or the empty slot where it would go. */
static gfi_name_slot *slot_of(const gfi_name_index *x, const char *name) {
  size_t len = strlen(name);
  for (size_t i = (size_t)gfi_hash_bytes(name, len) & x->mask;; i = (i + 1) & x->mask) {
    gfi_name_slot *s = &x->slots[i];
    if (!s->name || (s->len == len && memcmp(s->name, name, len) == 0)) return s;
  }
}

/* The value stored for `name`, or -1 when absent. */
int64_t gfi_name_index_find(const gfi_name_index *x, const char *name) {
  if (!x->slots) return -1;
  const gfi_name_slot *s = slot_of(x, name);
  return s->name ? s->value : -1;
}

/* The entry of `name`, inserted with value `value` when absent (*added
 * true), else the existing one (*added false). NULL when the index is full
 * (more than max_entries keys: a caller bug). */
gfi_name_slot *gfi_name_index_put(gfi_name_index *x, const char *name, int64_t value,
                                  bool *added) {
  gfi_name_slot *s = slot_of(x, name);
  *added = !s->name;
  if (s->name) return s;
  if (x->count >= x->max) return NULL;
  s->name = name;
  s->len = strlen(name);
  s->value = value;
  x->count++;
  return s;
}
