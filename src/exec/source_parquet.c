/*
 * The Parquet file source (exec/stream_internal.h): io/pq_groups.h reads
 * the footer, resolves the projection and prunes row groups by statistics
 * exactly as gf_read_parquet; each row group kept is one batch of the
 * projected columns, decoded when the driver reaches it (source_batches.c
 * reads a few ahead in parallel). A dictionary column's batches carry the
 * dictionary of their own row group, as gf_read_parquet's batches do.
 */
#include <string.h>

#include "exec/stream_internal.h"
#include "io/pq_groups.h"

static gf_status pq_read(void *user, int i, const gf_parallel_options *po, gf_frame **out,
                         gf_error *err) {
  return gfi_pq_groups_read(user, i, po, out, err);
}

static int64_t pq_row0(void *user, int i) { return gfi_pq_groups_offset(user, i); }

static void pq_close(void *user) { gfi_pq_groups_close(user); }

gf_status gfi_source_parquet(const char *path, const gf_parquet_read_options *o,
                             const gf_parallel_options *po, int ahead, int64_t *skipped,
                             gfi_source **out, gf_error *err) {
  gf_parquet_read_options ro;
  gf_parquet_read_options_init(&ro);
  if (o) memcpy(&ro, o, o->size && o->size < sizeof ro ? o->size : sizeof ro);
  ro.size = sizeof ro;
  ro.parallel = po;
  gfi_pq_groups *g = NULL;
  GF_RETURN_NOT_OK(gfi_pq_groups_open(path, &ro, po, &g, err));
  if (skipped) *skipped = gfi_pq_groups_skipped(g);
  gf_schema *schema = gf_schema_retain((gf_schema *)gfi_pq_groups_schema(g));
  gfi_batch_reader r = {pq_read, pq_row0, NULL, pq_close, g};
  return gfi_source_batches(schema, gfi_pq_groups_count(g), &r, po, ahead, out, err);
}
