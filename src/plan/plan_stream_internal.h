/*
 * Pieces of the streaming plan executor (plan_stream.c) shared with the
 * streaming join (plan_stream_join.c). Not installed.
 */
#ifndef GF_PLAN_STREAM_INTERNAL_H
#define GF_PLAN_STREAM_INTERNAL_H

#include "exec/stream_internal.h"
#include "plan/plan_internal.h"

/* The streaming shape of p: the sink's node (group-by or limit, or NULL)
 * in *top, the chain of filter / with / select nodes bottom-up in
 * chain[0..*n) (at most `cap`), and the source (one CSV file or a frame).
 * False when p does not stream. */
bool gfi_stream_shape(const gf_plan *p, const gf_plan **top, const gf_plan **chain, int *n, int cap,
                      const gf_plan **src);
/* The pipeline of a chain's steps, the source's pushed predicate first. */
gf_status gfi_stream_pipeline(const gf_plan *src, const gf_plan *const *chain, int n,
                              gf_pipeline **out, gf_error *err);
/* True when output column `name` of the chain is a source column passed
 * through (no with_columns step computes it). */
bool gfi_stream_passed_through(const gf_plan *const *chain, int n, const char *name);
/* The file sink of `dest` over batches of `schema` (`lo` loaded options). */
gf_status gfi_stream_open_output(const gfi_out_spec *dest, const gf_schema *schema,
                                 const gf_parallel_options *lo, gfi_sink **k, gf_error *err);

/* gfi_plan_stream for a join at the top of p whose two inputs are
 * streaming chains without a top (plan_stream_join.c, docs/STREAMING.md):
 * the right input is streamed into memory (the build side), the left one
 * is streamed window by window and probed, and the output goes batch by
 * batch to the collect sink or, with `dest`, to that file (*out NULL). Same arguments and contract as gfi_plan_stream; without `force`
 * only a plan whose left input reads a CSV file streams. */
gf_status gfi_plan_stream_join(const gf_plan *p, const gf_parallel_options *opts, int64_t window,
                               bool force, const gfi_out_spec *dest, gf_frame **out, bool *handled, gf_error *err);

#endif /* GF_PLAN_STREAM_INTERNAL_H */
