/*
 * Streaming join to a CSV file (plan_stream_join.c): left.csv joined with
 * right.csv on one key, the result written by gf_plan_sink_csv (the left
 * file streamed window by window, the output batch by batch into the CSV
 * file sink), optionally under a memory limit. The gf tool's `query -o`
 * collects its result before writing it, so this driver is what
 * bench/stream_joins.sh measures until the CLI routes -o to the file sinks.
 * Prints one line: wall seconds, VmHWM MiB, status.
 * Usage: bench_join_stream LEFT.csv RIGHT.csv KEY HOW OUT.csv [LIMIT_BYTES [WORKERS]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "gopherframe.h"

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s LEFT.csv RIGHT.csv KEY HOW OUT.csv [LIMIT_BYTES [WORKERS]]\n",
            argv[0]);
    return 2;
  }
  gf_error err;
  gf_join_kind how;
  bench_check(gf_join_kind_parse(argv[4], &how, &err), &err, "join kind");
  gf_plan *l = NULL, *r = NULL, *j = NULL;
  bench_check(gf_plan_scan_csv(argv[1], NULL, &l, &err), &err, "left scan");
  bench_check(gf_plan_scan_csv(argv[2], NULL, &r, &err), &err, "right scan");
  const char *key[] = {argv[3]};
  bench_check(gf_plan_join(l, r, key, key, 1, how, NULL, &j, &err), &err, "join");
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  if (argc > 6) po.memory_limit = bench_parse_count("LIMIT_BYTES", argv[6]);
  if (argc > 7) po.num_workers = (int)bench_parse_count("WORKERS", argv[7]);
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = &po;
  int64_t t0 = bench_now_ns();
  gf_status st = gf_plan_sink_csv(j, argv[5], NULL, &o, &err);
  double wall = (double)(bench_now_ns() - t0) / 1e9;
  printf("wall_s=%.2f vmhwm_mib=%.0f status=%d %s\n", wall, bench_peak_rss_mb(), (int)st,
         st == GF_OK ? "" : err.message);
  gf_plan_release(j);
  gf_plan_release(l);
  gf_plan_release(r);
  return st == GF_OK ? 0 : 1;
}
