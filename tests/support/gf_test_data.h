/*
 * Test helpers: deterministic random arrays and frames of every supported
 * type (with nulls), and small constructors for hand-written arrays.
 *
 * Everything is reproducible from `seed` alone (no global state), so a
 * failing test can print its seed. Arrays come from gf_builder, so they obey
 * the layout promises (null slots and padding zeroed, validity bitmap absent
 * when there are no nulls, statistics filled in).
 *
 * Values generated, per type:
 *  - bool: fair coin; int8/int16/uint8/uint16: the type's full range;
 *    int32/int64: [-1e9, 1e9]; uint32/uint64: [0, 2e9] (sums of a few
 *    million values never overflow int64);
 *  - float32/float64: finite values in [-1e6, 1e6) with 3 decimals and some
 *    exact zeros (no NaN or infinity: tests wanting them append them);
 *  - utf8/large_utf8: 0..12 characters, ASCII letters and digits with an
 *    occasional 2- or 3-byte UTF-8 character ("é", "日");
 *  - binary/large_binary/fixed_size_binary: arbitrary bytes, 0 included;
 *  - date32: days in [0, 20000]; date64: those days in milliseconds;
 *    time32/time64: a time of day in the type's unit; timestamp: instants
 *    within 2000..2030 in the unit; duration: [-1e9, 1e9] in the unit;
 *  - dictionary<T>: values drawn from a pool of max(1, n / 8) distinct
 *    random values of T (so codes repeat), nulls as null codes.
 */
#ifndef GF_TEST_DATA_H
#define GF_TEST_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "gopherframe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on the number of types gft_all_types writes. */
#define GFT_MAX_TYPES 48

/* Writes up to `max` types into out[], one instance of every supported
 * type: null, bool, all integers, floats, utf8/large_utf8, binary/
 * large_binary, fixed_size_binary[5], date32/64, time32[s|ms],
 * time64[us|ns], timestamp without tz, with UTC, with +05:30 / -08:00 and
 * with the named zone US/Eastern,
 * duration, dictionary<utf8>, dictionary<int32>, dictionary<large_binary>,
 * decimal128(20, 3), decimal256(40, 5).
 * Returns how many were written (all of them when max >= GFT_MAX_TYPES). */
int gft_all_types(gf_datatype *out, int max);

/* A random array of type `t` with `n` elements; each element is null with
 * probability `null_prob` (0 = no validity bitmap at all; the null type is
 * always all-null). `a` NULL = default allocator. */
gf_status gft_random_array(gf_datatype t, int64_t n, double null_prob,
                           uint64_t seed, const gf_allocator *a,
                           gf_array **out);

/* A random frame: columns named "c0", "c1", ... of `types`, `rows` rows
 * split into `num_batches` batches of near-equal size (>= 1), nulls as in
 * gft_random_array. Dictionary columns share one dictionary per column
 * (built with gf_frame_new, which unifies them). */
gf_status gft_random_frame(const gf_datatype *types, int ncols, int64_t rows,
                           int num_batches, double null_prob, uint64_t seed,
                           const gf_allocator *a, gf_frame **out);

/* Hand-written arrays. `valid` may be NULL (all valid); values at null
 * positions are ignored. Abort the test (cmocka fail) on error. */
gf_array *gft_int64_array(gf_datatype t, const int64_t *values,
                          const bool *valid, int64_t n);
gf_array *gft_double_array(gf_datatype t, const double *values,
                           const bool *valid, int64_t n);
/* utf8/binary/dictionary<utf8>...: a NULL string is a null. */
gf_array *gft_string_array(gf_datatype t, const char *const *values,
                           int64_t n);

/* splitmix64 step: the PRNG behind everything above, exposed for tests
 * that want their own reproducible streams. */
uint64_t gft_rand_next(uint64_t *state);

#ifdef __cplusplus
}
#endif
#endif /* GF_TEST_DATA_H */
