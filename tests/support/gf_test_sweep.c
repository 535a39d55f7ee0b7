#include "gf_test_sweep.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

/* No operation of the library makes anywhere near this many allocations
 * on the small inputs the sweeps use: a sweep that gets here never ends. */
#define MAX_RUNS 1000000

static char at[96];

const char *gft_sweep_at(void) { return at; }

void gft_alloc_sweep(const char *what, gf_failing_allocator *fa, gft_sweep_fn run, void *user,
                     gft_sweep_counts *acc) {
  gf_failing_allocator_arm(fa, 0, false);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  int64_t base = gf_failing_allocator_live_blocks(fa);
  acc->sweeps++;
  for (int persistent = 0; persistent < 2; persistent++) {
    const char *mode = persistent ? "persistent" : "one-off";
    for (int64_t n = 1;; n++) {
      if (n > MAX_RUNS) fail_msg("%s: %s sweep still failing after %d runs", what, mode, MAX_RUNS);
      snprintf(at, sizeof at, "%s allocation %lld", mode, (long long)n);
      gf_failing_allocator_arm(fa, n, persistent);
      gf_status st = run(user, a);
      int64_t failures = gf_failing_allocator_failures(fa);
      int64_t attempts = gf_failing_allocator_attempts(fa);
      gf_failing_allocator_arm(fa, 0, false);
      int64_t live = gf_failing_allocator_live_blocks(fa);
      if (live != base)
        fail_msg("%s: %s: %lld blocks live after the run, %lld before (%s)", what, at,
                 (long long)live, (long long)base, gf_status_name(st));
      if (failures == 0) {
        /* The clean run: the sweep of this mode is complete. */
        if (st != GF_OK)
          fail_msg("%s: %s: %s without any failed allocation", what, at, gf_status_name(st));
        if (!persistent) acc->sites += attempts;
        break;
      }
      if (st == GF_ENOMEM) {
        acc->failing[persistent]++;
      } else if (st == GF_OK) {
        acc->absorbed[persistent]++;
      } else {
        fail_msg("%s: %s: %s, want GF_ENOMEM", what, at, gf_status_name(st));
      }
    }
  }
  at[0] = '\0';
}

void gft_sweep_print(const char *what, const gft_sweep_counts *c) {
  printf("allocation sweep %s: %lld sweeps, %lld allocation sites; failing runs one-off %lld, "
         "persistent %lld",
         what, (long long)c->sweeps, (long long)c->sites, (long long)c->failing[0],
         (long long)c->failing[1]);
  if (c->absorbed[0] || c->absorbed[1])
    printf(" (absorbed: one-off %lld, persistent %lld)", (long long)c->absorbed[0],
           (long long)c->absorbed[1]);
  printf("\n");
}
