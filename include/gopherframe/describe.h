/*
 * gopherframe/describe.h - summary statistics of a frame's columns.
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_DESCRIBE_H
#define GOPHERFRAME_DESCRIBE_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Summary statistics of every column of `f`, as a new frame shaped like
 * Polars' describe() (what `gf describe` prints). Its first column,
 * "statistic" (utf8), names the ten rows: count, null_count, n_unique, mean,
 * std, min, 25%, 50%, 75%, max. Then one column per column of `f`, with the
 * same name:
 *  - integer, float and decimal128 columns (decimals read as their nearest
 *    doubles): float64. count and null_count; mean (of a
 *    compensated sum); std (sample, n-1); min and max (floats in IEEE total
 *    order: NaN above +inf, -0.0 below +0.0); quartiles by linear
 *    interpolation between the order statistics at q*(count-1);
 *  - other columns: utf8. count and null_count for all; strings (plain or
 *    dictionary): n_unique, min and max in byte order; bool: mean (the share
 *    of true), min, max; dates, times, timestamps, durations: min, max and
 *    quartiles (the lower order statistic), written as the table printer
 *    writes values.
 * A statistic that does not apply (or has no value: std of one row, min of
 * an empty column) is null. Columns are summarised in parallel, one task per
 * column, each in row order, so results are identical for any worker count.
 * `opts` NULL = defaults; all memory goes through opts->allocator. On
 * failure `*out` is untouched.
 */
GF_API gf_status gf_describe(const gf_frame *f, const gf_parallel_options *opts,
                             gf_frame **out, gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_DESCRIBE_H */
