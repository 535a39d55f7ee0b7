/* Cancellation token: one lock-free atomic flag, so requesting is
 * async-signal-safe (a SIGINT handler may call gf_cancel_request). */
#include "exec/exec_internal.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "gf_cancel_request must be lock-free to be async-signal-safe");

struct gf_cancel {
  atomic_int requested;
};

/* Creates a token in the "not requested" state. */
gf_status gf_cancel_new(gf_cancel **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_cancel_new: out is NULL");
  gf_cancel *c = gfi_malloc(NULL, sizeof *c);
  if (!c) return GF_OOM(err, "a cancellation token");
  atomic_init(&c->requested, 0);
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

/* True once requested and until reset. NULL is never requested. */
bool gf_cancel_requested(const gf_cancel *c) {
  if (!c) return false;
  return atomic_load_explicit(&((gf_cancel *)c)->requested, memory_order_acquire) != 0;
}

/* Makes the token usable for a new call. */
void gf_cancel_reset(gf_cancel *c) {
  if (c) atomic_store_explicit(&c->requested, 0, memory_order_release);
}
