/*
 * Schemas: immutable, refcounted lists of uniquely named fields. Schemas
 * take no allocator argument, so they live in the default allocator.
 */
#include <string.h>

#include "core/name_index.h"
#include "data/array_internal.h"

/* Frees the names and arrays of a schema under construction or release. */
static void schema_destroy(gf_schema *s) {
  const gf_allocator *a = gf_default_allocator();
  if (s->fields) {
    for (int i = 0; i < s->n; i++) {
      const char *nm = s->fields[i].name;
      if (nm) gfi_mfree(a, (void *)nm, strlen(nm) + 1);
    }
    gfi_mfree(a, s->fields, sizeof(gf_field) * (size_t)s->n);
  }
  if (s->index) {
    gfi_name_index_free(s->index);
    gfi_mfree(a, s->index, sizeof *s->index);
  }
  gfi_mfree(a, s, sizeof *s);
}

/* Copies `n` fields (names duplicated). Names must be non-empty and unique
 * and every type valid; otherwise GF_EINVAL naming the field. */
gf_status gf_schema_new(const gf_field *fields, int n, gf_schema **out,
                        gf_error *err) {
  if (!out || n < 0 || (n > 0 && !fields))
    return gf_error_set(err, GF_EINVAL, "gf_schema_new: invalid arguments");
  for (int i = 0; i < n; i++) {
    if (!fields[i].name || fields[i].name[0] == '\0')
      return gf_error_set(err, GF_EINVAL, "field %d has an empty name", i);
    gf_error sub;
    if (gf_type_validate(fields[i].type, &sub) != GF_OK)
      return gf_error_set(err, sub.code, "field \"%s\": %s", fields[i].name,
                          sub.message);
  }
  const gf_allocator *a = gf_default_allocator();
  gf_schema *s = gfi_calloc(a, sizeof *s);
  if (!s) return GF_OOM(err, "schema");
  gfi_ref_init(&s->ref);
  s->n = n;
  if (n > 0) {
    s->fields = gfi_calloc(a, sizeof(gf_field) * (size_t)n);
    if (!s->fields) {
      s->n = 0;
      schema_destroy(s);
      return GF_OOM(err, "schema fields");
    }
    for (int i = 0; i < n; i++) {
      size_t len = strlen(fields[i].name) + 1;
      char *nm = gfi_malloc(a, len);
      if (!nm) {
        schema_destroy(s); /* names not yet set are NULL */
        return GF_OOM(err, "field name");
      }
      memcpy(nm, fields[i].name, len);
      s->fields[i] = fields[i];
      s->fields[i].name = nm;
    }
  }
  /* Names -> positions, hashed once here: uniqueness is checked in O(n)
   * and gf_schema_find is O(1) for schemas of thousands of columns. Tiny
   * schemas keep a linear scan. */
  if (n > GFI_SCHEMA_INDEX_MIN) {
    s->index = gfi_calloc(a, sizeof *s->index);
    gf_status st = s->index ? gfi_name_index_init(s->index, n, a, err) : GF_OOM(err, "schema index");
    if (st != GF_OK) {
      if (s->index) gfi_mfree(a, s->index, sizeof *s->index);
      s->index = NULL;
      schema_destroy(s);
      return st;
    }
  }
  for (int i = 0; i < n; i++) {
    int64_t j = -1;
    if (s->index) {
      bool added;
      gfi_name_slot *e = gfi_name_index_put(s->index, s->fields[i].name, i, &added);
      if (!added) j = e->value;
    } else {
      for (int k = 0; k < i && j < 0; k++)
        if (strcmp(s->fields[i].name, s->fields[k].name) == 0) j = k;
    }
    if (j >= 0) {
      gf_error_set(err, GF_EINVAL, "duplicate field name \"%s\" (fields %lld and %d)",
                   s->fields[i].name, (long long)j, i);
      schema_destroy(s);
      return GF_EINVAL;
    }
  }
  *out = s;
  return GF_OK;
}

gf_schema *gf_schema_retain(gf_schema *s) {
  if (s) gfi_ref_inc(&s->ref);
  return s;
}

void gf_schema_release(gf_schema *s) {
  if (s && gfi_ref_dec(&s->ref)) schema_destroy(s);
}

int gf_schema_num_fields(const gf_schema *s) { return s ? s->n : 0; }

/* Field i, or NULL when i is out of range. */
const gf_field *gf_schema_field(const gf_schema *s, int i) {
  if (!s || i < 0 || i >= s->n) return NULL;
  return &s->fields[i];
}

int gf_schema_find(const gf_schema *s, const char *name) {
  if (!s || !name) return -1;
  if (s->index) return (int)gfi_name_index_find(s->index, name);
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->fields[i].name, name) == 0) return i;
  return -1;
}

/* Same names, types and nullability in the same order. */
bool gf_schema_equals(const gf_schema *a, const gf_schema *b) {
  if (a == b) return true;
  if (!a || !b || a->n != b->n) return false;
  for (int i = 0; i < a->n; i++) {
    const gf_field *x = &a->fields[i], *y = &b->fields[i];
    if (strcmp(x->name, y->name) != 0 || x->nullable != y->nullable ||
        !gf_type_equals(x->type, y->type))
      return false;
  }
  return true;
}
