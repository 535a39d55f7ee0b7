/* Waves and "the lowest chunk's error wins" (declared in exec_internal.h).
 *
 * A wave runner bounds what is in flight: an operation whose chunks produce
 * output that must leave in order (CSV text to a file) or that may stop
 * early (a pipeline with a limit) runs a few chunks per worker at a time and
 * handles each finished wave on the calling thread, in list order. Chunks
 * and their order never depend on the worker count, so neither does what is
 * emitted. */
#include <limits.h>

#include "exec/exec_internal.h"

/* Runs the waves (see exec_internal.h). */
gf_status gfi_run_waves(gfi_waves *w, const gf_chunk_spec *chunks, int64_t count,
                        const gf_parallel_options *o, gf_error *err) {
  if (!w || !w->fn || count < 0 || (count > 0 && !chunks))
    return gf_error_set(err, GF_EINVAL, "gfi_run_waves: invalid argument");
  int64_t size = w->wave > 0 ? w->wave : 1;
  w->first = 0;
  w->ran = 0;
  while (w->ran < count) {
    int64_t n = count - w->ran < size ? count - w->ran : size;
    w->first = w->ran;
    GF_RETURN_NOT_OK(gf_run_chunks(chunks + w->first, n, w->fn, w->user, o, err));
    w->ran += n;
    bool stop = false;
    if (w->done) GF_RETURN_NOT_OK(w->done(w->done_user, w->first, n, &stop, err));
    if (stop) break;
    if (w->grow && size <= INT64_MAX / 2) size *= 2;
  }
  return GF_OK;
}

/* Lowers the slot to `chunk` unless a lower chunk is already there. */
void gfi_first_error_note(atomic_llong *slot, int64_t chunk) {
  long long cur = atomic_load(slot);
  while (chunk < cur && !atomic_compare_exchange_weak(slot, &cur, (long long)chunk)) {
  }
}
