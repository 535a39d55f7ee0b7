/* Printing and adding gf_exec_stats. Times are formatted with integer arithmetic so the
 * output does not depend on the C locale. */
#include <inttypes.h>
#include <stdio.h>

#include "exec/exec_internal.h"

/* Writes ns as milliseconds with three decimals ("12.345"). */
static void fmt_ms(char *buf, size_t size, int64_t ns) {
  if (ns < 0) ns = 0;
  int64_t us = ns / 1000;
  snprintf(buf, size, "%" PRId64 ".%03" PRId64, us / 1000, us % 1000);
}

/* Prints a summary line and one row per worker. NULL s or out: nothing. */
void gf_exec_stats_print(const gf_exec_stats *s, FILE *out) {
  if (!s || !out) return;
  char wall[32];
  fmt_ms(wall, sizeof wall, s->wall_ns);
  fprintf(out,
          "workers used: %d  morsels: %" PRId64 "  rows: %" PRId64 "  wall: %s ms  "
          "peak memory: %" PRId64 " bytes  chunk rows: %" PRId64 "..%" PRId64 "\n",
          s->workers_used, s->morsels, s->rows, wall, s->peak_memory, s->chunk_rows_min,
          s->chunk_rows_max);
  fprintf(out, "%6s %10s %14s %12s %12s\n", "worker", "morsels", "rows", "busy ms", "wait ms");
  int n = s->workers_used < GF_MAX_STATS_WORKERS ? s->workers_used : GF_MAX_STATS_WORKERS;
  for (int i = 0; i < n; i++) {
    char busy[32], wait[32];
    fmt_ms(busy, sizeof busy, s->worker[i].busy_ns);
    fmt_ms(wait, sizeof wait, s->worker[i].wait_ns);
    fprintf(out, "%6d %10" PRId64 " %14" PRId64 " %12s %12s\n", i, s->worker[i].morsels,
            s->worker[i].rows, busy, wait);
  }
}

void gfi_exec_stats_add(gf_exec_stats *d, const gf_exec_stats *s) {
  if (d->size == 0) {
    *d = *s;
    return;
  }
  if (s->workers_used > d->workers_used) d->workers_used = s->workers_used;
  d->morsels += s->morsels;
  d->rows += s->rows;
  d->wall_ns += s->wall_ns;
  if (s->peak_memory > d->peak_memory) d->peak_memory = s->peak_memory;
  if (s->chunk_rows_min > 0 && (d->chunk_rows_min == 0 || s->chunk_rows_min < d->chunk_rows_min))
    d->chunk_rows_min = s->chunk_rows_min;
  if (s->chunk_rows_max > d->chunk_rows_max) d->chunk_rows_max = s->chunk_rows_max;
  int n = s->workers_used < GF_MAX_STATS_WORKERS ? s->workers_used : GF_MAX_STATS_WORKERS;
  for (int i = 0; i < n; i++) {
    d->worker[i].morsels += s->worker[i].morsels;
    d->worker[i].rows += s->worker[i].rows;
    d->worker[i].busy_ns += s->worker[i].busy_ns;
    d->worker[i].wait_ns += s->worker[i].wait_ns;
  }
}
