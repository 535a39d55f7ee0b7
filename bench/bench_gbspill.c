/* q10 of db-benchmark (group by id1..id6: sum(v3), count()) streamed from
 * the CSV into a CSV file through gf_plan_sink_csv, under a memory limit:
 * the group-by sink spills and its result is merged straight into the file
 * sink (finish_into), never whole in memory (docs/SPILLING.md). The gf
 * tool's `query -o` collects the result first; this driver is the sink
 * path that tool will take.
 * Usage: bench_gbspill CSV OUT LIMIT_BYTES(0 = none) [WORKERS]
 * Prints one line: wall seconds, status, the call's tracked peak. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gopherframe.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s CSV OUT LIMIT_BYTES [WORKERS]\n", argv[0]);
    return 2;
  }
  gf_error err;
  gf_plan *src = NULL, *g = NULL;
  const char *keys[] = {"id1", "id2", "id3", "id4", "id5", "id6"};
  if (gf_plan_scan_csv(argv[1], NULL, &src, &err) != GF_OK ||
      gf_plan_group_by(src, keys, 6, "sum(v3) as v3, count() as count", false, &g, &err) != GF_OK) {
    fprintf(stderr, "plan: %s\n", err.message);
    return 1;
  }
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.memory_limit = strtoll(argv[3], NULL, 10);
  if (argc > 4) o.num_workers = atoi(argv[4]);
  gf_plan_options po;
  gf_plan_options_init(&po);
  po.parallel = &o;
  double t0 = now_s();
  gf_status st = gf_plan_sink_csv(g, argv[2], NULL, &po, &err);
  double t1 = now_s();
  printf("wall_s=%.2f status=%d%s%s\n", t1 - t0, (int)st, st ? " err=" : "", st ? err.message : "");
  gf_plan_release(g);
  gf_plan_release(src);
  return st == GF_OK ? 0 : 1;
}
