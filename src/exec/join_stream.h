/*
 * Streaming hash join (join_stream.c, docs/STREAMING.md): the build side
 * (the right input) is one in-memory frame; the probe side (the left
 * input) comes batch by batch. Each batch's output is the in-memory
 * join's output rows for those left rows, in gf_join's order; after the
 * last batch a right or full join adds the right rows no batch matched,
 * in right order - so the concatenated outputs are gf_join's output row
 * for row, for every join kind, whatever the batches. Not installed.
 */
#ifndef GF_EXEC_JOIN_STREAM_H
#define GF_EXEC_JOIN_STREAM_H

#include "core/core_internal.h"
#include "gopherframe/sort_join.h"

typedef struct gfi_join_stream gfi_join_stream;

/* Prepares the join of batches of `left_schema` with `right` (retained)
 * on left_on[k] = right_on[k] (k < nkeys, names kept by reference until
 * free), kind `how`, `suffix` (NULL: "_right") for clashing right names;
 * builds the hash table over right's keys. `lo`: loaded options (copied;
 * their context must outlive the join). GF_EINVAL / GF_ETYPE for a
 * missing or incomparable key, with gf_join's message. */
gf_status gfi_join_stream_new(const gf_frame *right, const gf_schema *left_schema,
                              const char *const *left_on, const char *const *right_on, int nkeys,
                              gf_join_kind how, const char *suffix, const gf_parallel_options *lo,
                              gfi_join_stream **out, gf_error *err);
/* The output rows of left batch `batch` (its schema left_schema; may have
 * no rows) in gf_join's order. */
gf_status gfi_join_stream_probe(gfi_join_stream *j, const gf_frame *batch, gf_frame **out,
                                gf_error *err);
/* After the last batch: the right rows no batch matched (right and full
 * joins; *out = NULL for other kinds or when there are none). Once. */
gf_status gfi_join_stream_finish(gfi_join_stream *j, gf_frame **out, gf_error *err);
/* Frees j (NULL: nothing), at any point. */
void gfi_join_stream_free(gfi_join_stream *j);

/* ---- streamed grace join (join_stream_spill.c) ----------------------------- */

/* For a build side that does not fit: both inputs are added batch by
 * batch (side 0 = left, 1 = right, each in input order), partitioned by
 * key hash into `parts` partitions of one nameless spill file, each row
 * with its position on its side; run joins partition by partition and
 * hands the output to `emit` in batches, in gf_join's order (values the
 * in-memory join's; dictionary columns unified across blocks, so their
 * codes may differ). Keys must be partitionable by one hash on both sides
 * (gfi_join_spill_eligible's rule); names kept by reference. */
typedef struct gfi_join_spill gfi_join_spill;
typedef gf_status (*gfi_join_emit)(void *user, gf_frame *batch, gf_error *err);
gf_status gfi_join_spill_new(const gf_schema *left, const gf_schema *right,
                             const char *const *left_on, const char *const *right_on, int nkeys,
                             gf_join_kind how, const char *suffix, int parts,
                             const gf_parallel_options *lo, gfi_join_spill **out, gf_error *err);
gf_status gfi_join_spill_add(gfi_join_spill *j, int side, const gf_frame *batch, gf_error *err);
gf_status gfi_join_spill_run(gfi_join_spill *j, gfi_join_emit emit, void *user, gf_error *err);
void gfi_join_spill_free(gfi_join_spill *j);
/* Test hook: with parts > 0 every streamed join with a partitionable key
 * spills its build side into that many partitions (0: off). */
void gfi_join_stream_test_spill(int parts);
int gfi_join_stream_test_spill_parts(void);

#endif /* GF_EXEC_JOIN_STREAM_H */
