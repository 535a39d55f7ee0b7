/* gf_tune: measures a kernel at several chunk sizes and worker counts and
 * reports the fastest (median of repeats). */
#include <inttypes.h>
#include <stdlib.h>

#include "exec/exec_internal.h"

#define MAX_REPEATS 101

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Median wall time of `repeats` runs of fn with the given shape. */
static gf_status measure(int64_t total_rows, int64_t bytes_per_row, gf_chunk_fn fn, void *user,
                         int workers, int64_t chunk_rows, int repeats, int64_t *median,
                         gf_error *err) {
  int64_t times[MAX_REPEATS];
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.num_workers = workers;
  o.chunk_rows = chunk_rows;
  o.strategy = GF_STRATEGY_FIXED_CHUNKS;
  o.min_parallel_rows = 0;
  for (int r = 0; r < repeats; r++) {
    int64_t t0 = gfi_now_ns();
    GF_RETURN_NOT_OK(gf_parallel_for(total_rows, bytes_per_row, false, fn, user, &o, err));
    times[r] = gfi_now_ns() - t0;
  }
  qsort(times, (size_t)repeats, sizeof times[0], cmp_i64);
  *median = times[repeats / 2];
  return GF_OK;
}

/* Sweeps chunk sizes {16K, 64K, 256K, 1M} (those not above total_rows, or
 * total_rows itself when it is smaller) times worker counts {1, 2, 4, ...,
 * default}; logs each trial and returns the fastest. */
gf_status gf_tune(int64_t total_rows, int64_t bytes_per_row, gf_chunk_fn fn, void *user,
                  int repeats, FILE *log, gf_tune_result *out, gf_error *err) {
  if (!fn || !out)
    return gf_error_set(err, GF_EINVAL, "gf_tune: %s is NULL", fn ? "out" : "fn");
  if (total_rows <= 0)
    return gf_error_set(err, GF_EINVAL, "gf_tune: total_rows must be positive, got %lld",
                        (long long)total_rows);
  if (repeats < 1) repeats = 1;
  if (repeats > MAX_REPEATS) repeats = MAX_REPEATS;
  static const int64_t sizes[] = {16384, 65536, 262144, 1048576};
  int64_t chunk_sizes[5];
  int nsizes = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    if (sizes[i] <= total_rows) chunk_sizes[nsizes++] = sizes[i];
  if (nsizes == 0) chunk_sizes[nsizes++] = total_rows;
  int maxw = gf_default_num_workers();
  int workers[16];
  int nworkers = 0;
  for (int w = 1; w < maxw && nworkers < 15; w *= 2) workers[nworkers++] = w;
  workers[nworkers++] = maxw;

  gf_tune_result best = {0, 0, 0.0};
  for (int wi = 0; wi < nworkers; wi++) {
    for (int si = 0; si < nsizes; si++) {
      int64_t median = 0;
      GF_RETURN_NOT_OK(measure(total_rows, bytes_per_row, fn, user, workers[wi], chunk_sizes[si],
                               repeats, &median, err));
      if (log)
        fprintf(log, "tune: workers=%d chunk_rows=%" PRId64 " median_ns=%" PRId64 "\n",
                workers[wi], chunk_sizes[si], median);
      if (best.best_workers == 0 || (double)median < best.best_ns) {
        best.best_workers = workers[wi];
        best.best_chunk_rows = chunk_sizes[si];
        best.best_ns = (double)median;
      }
    }
  }
  if (log)
    fprintf(log, "tune: best workers=%d chunk_rows=%" PRId64 " median_ns=%" PRId64 "\n",
            best.best_workers, best.best_chunk_rows, (int64_t)best.best_ns);
  *out = best;
  return GF_OK;
}
