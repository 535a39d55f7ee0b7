/* Internal: a fixed-capacity hash index from borrowed C strings to int64
 * values (src/core/name_index.c). Not installed. */
#ifndef GF_CORE_NAME_INDEX_H
#define GF_CORE_NAME_INDEX_H

#include "core/core_internal.h"

typedef struct gfi_name_slot {
  const char *name; /* borrowed; NULL = empty slot */
  size_t len;
  int64_t value;
} gfi_name_slot;

typedef struct gfi_name_index {
  gfi_name_slot *slots;
  size_t mask;
  int64_t count, max;
  const gf_allocator *alloc;
} gfi_name_index;

gf_status gfi_name_index_init(gfi_name_index *x, int64_t max_entries, const gf_allocator *a,
                              gf_error *err);
void gfi_name_index_free(gfi_name_index *x);
int64_t gfi_name_index_find(const gfi_name_index *x, const char *name);
gfi_name_slot *gfi_name_index_put(gfi_name_index *x, const char *name, int64_t value,
                                  bool *added);

#endif /* GF_CORE_NAME_INDEX_H */
