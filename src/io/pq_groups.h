/*
 * A Parquet file read row group by row group (not installed): the
 * streaming Parquet source (src/exec/source_parquet.c) is built on it.
 *
 * Open reads the footer only, resolves the projection and prunes row
 * groups by statistics exactly as gf_read_parquet does (pq_prune.c); the
 * row groups kept are the ones gf_read_parquet decodes, in the same order,
 * and a row group read here is the batch it makes of that group (the same
 * decoding, the same messages naming file, column and row group), so
 * concatenating every read equals the whole read. One difference: a view
 * column whose strings in one row group exceed 2^31-1 bytes fails here
 * with GF_ENOTSUP (the whole read widens the column in every batch).
 */
#ifndef GF_IO_PQ_GROUPS_H
#define GF_IO_PQ_GROUPS_H

#include "core/core_internal.h"

typedef struct gfi_pq_groups gfi_pq_groups;

/* Opens `path` with o's columns, predicate (pruning only: rows are not
 * filtered) and input mode; `par` (loaded options) gives the allocator
 * that holds the reader and the deadline/token of the open. */
gf_status gfi_pq_groups_open(const char *path, const gf_parquet_read_options *o,
                             const gf_parallel_options *par, gfi_pq_groups **out,
                             gf_error *err);
/* The projected schema (borrowed). */
const gf_schema *gfi_pq_groups_schema(const gfi_pq_groups *g);
/* Row groups to read (kept by pruning and not empty), and row groups the
 * statistics ruled out. */
int gfi_pq_groups_count(const gfi_pq_groups *g);
int64_t gfi_pq_groups_skipped(const gfi_pq_groups *g);
/* The file's index of the i-th kept row group and its first row's
 * absolute offset in the file. */
int gfi_pq_groups_index(const gfi_pq_groups *g, int i);
int64_t gfi_pq_groups_offset(const gfi_pq_groups *g, int i);
/* Decodes the i-th kept row group as a one-batch frame, its columns in
 * parallel on `par`'s runtime. Thread-safe for distinct or equal i. */
gf_status gfi_pq_groups_read(gfi_pq_groups *g, int i, const gf_parallel_options *par,
                             gf_frame **out, gf_error *err);
/* Frees the reader (batches read stay valid). NULL allowed. */
void gfi_pq_groups_close(gfi_pq_groups *g);

#endif /* GF_IO_PQ_GROUPS_H */
