/* Test helper: allocation-failure sweeps (docs/RELIABILITY.md section 2).
 *
 * gft_alloc_sweep runs one operation again and again with a failing
 * allocator armed at allocation n = 1, 2, ..., first one-off (only the nth
 * allocation fails), then persistent (the nth and every later one fails),
 * each mode until a run makes no failing allocation at all. After every run
 * it asserts: the status is GF_ENOMEM (or GF_OK when the operation absorbed
 * the failure, in which case the callback has checked the result), the
 * allocator holds exactly the blocks it held before the sweep, and the
 * final clean run returned GF_OK. The callback checks everything else
 * (outputs untouched on failure, a correct result on success). */
#ifndef GF_TEST_SWEEP_H
#define GF_TEST_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "gopherframe.h"
#include "gopherframe/testing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One run of the operation under test with allocator `a` (already armed):
 * makes the call, checks what it produced (a correct result on GF_OK,
 * outputs untouched on failure, failing the test otherwise), releases what
 * it made and returns the call's status. Callbacks of the C stream
 * interface map their errno to a status (ENOMEM -> GF_ENOMEM). */
typedef gf_status (*gft_sweep_fn)(void *user, const gf_allocator *a);

/* What sweeps covered; gft_alloc_sweep adds to it, so one struct can sum
 * several sweeps (e.g. every worker count of one operation). */
typedef struct gft_sweep_counts {
  int64_t sweeps;      /* gft_alloc_sweep calls */
  int64_t sites;       /* allocations made by the clean one-off run, summed */
  int64_t failing[2];  /* runs that failed with GF_ENOMEM: [0] one-off, [1] persistent */
  int64_t absorbed[2]; /* runs that still succeeded (correctly) despite a failure */
} gft_sweep_counts;

/* Sweeps `run` in both modes with `fa` (which must be otherwise idle;
 * blocks it holds when the sweep starts, e.g. of an input frame, may stay
 * live). Fails the test, naming `what`, the mode and n, on a wrong status,
 * a leak or a sweep that never ends. */
void gft_alloc_sweep(const char *what, gf_failing_allocator *fa, gft_sweep_fn run, void *user,
                     gft_sweep_counts *acc);

/* "n" and the mode of the run in progress, e.g. "one-off allocation 12",
 * for the callbacks' own failure messages. */
const char *gft_sweep_at(void);

/* Prints one line: what, sweeps, sites, failing runs per mode (and absorbed
 * ones when there were any). */
void gft_sweep_print(const char *what, const gft_sweep_counts *c);

#ifdef __cplusplus
}
#endif
#endif /* GF_TEST_SWEEP_H */
