/* Cancellation token: one lock-free atomic flag, so requesting is
 * async-signal-safe (a SIGINT handler may call gf_cancel_request). */
#include "exec/exec_internal.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "gf_cancel_request must be lock-free to be async-signal-safe");

/* struct gf_cancel is in exec_internal.h: call contexts embed one. */

/* Creates a token in the "not requested" state. */
gf_status gf_cancel_new(gf_cancel **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_cancel_new: out is NULL");
  gf_cancel *c = gfi_malloc(NULL, sizeof *c);
  if (!c) return GF_OOM(err, "a cancellation token");
  atomic_init(&c->requested, 0);
  c->call = NULL;
  *out = c;
  return GF_OK;
}

/* Frees the token; no call may still be using it. NULL allowed. */
void gf_cancel_free(gf_cancel *c) {
  if (c) gfi_mfree(NULL, c, sizeof *c);
}

/* Requests cancellation: only an atomic store, hence async-signal-safe. */
void gf_cancel_request(gf_cancel *c) {
  if (c) atomic_store_explicit(&c->requested, 1, memory_order_release);
}

/* True once requested and until reset. NULL is never requested. A call
 * token answers for the user's token of its call. */
bool gf_cancel_requested(const gf_cancel *c) {
  if (!c) return false;
  if (c->call) c = c->call->user_cancel;
  if (!c) return false;
  return atomic_load_explicit(&((gf_cancel *)c)->requested, memory_order_acquire) != 0;
}

/* Makes the token usable for a new call. */
void gf_cancel_reset(gf_cancel *c) {
  if (c) atomic_store_explicit(&c->requested, 0, memory_order_release);
}

/* Token and whole-operation deadline between sequential phases (see
 * exec_internal.h). */
gf_status gfi_check_stop(const gf_parallel_options *o, int64_t start_ns,
                         gf_parallel_options *phase, gf_error *err) {
  if (phase) *phase = *o;
  if (o->cancel && gf_cancel_requested(o->cancel))
    return gf_error_set(err, GF_ECANCELED, "operation cancelled");
  const gfi_ctx *c = gfi_ctx_of(o);
  int64_t deadline = c                  ? c->deadline_ns
                     : o->timeout_ms > 0 ? start_ns + o->timeout_ms * 1000000
                                         : 0;
  if (deadline && gfi_now_ns() >= deadline)
    return gf_error_set(err, GF_ETIMEDOUT, "operation timed out: its deadline (timeout_ms) passed");
  return GF_OK;
}
