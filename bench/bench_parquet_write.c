/* bench_parquet_write IPC_FILE OUT.parquet CODEC THREADS RUNS: reads the
 * Arrow IPC file once (not timed), then writes it as Parquet RUNS times
 * with gf_write_parquet (CODEC none|snappy|gzip|zstd|lz4) and prints one
 * line per run: "gopherframe CODEC THREADS wall_s cpu_s bytes". Run by
 * bench/parquet_write.sh beside the peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_common.h"
#include "gopherframe.h"

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s IPC_FILE OUT.parquet CODEC THREADS RUNS\n", argv[0]);
    return 2;
  }
  const char *codecs[] = {"none", "snappy", "gzip", "zstd", "lz4"};
  const gf_parquet_compression cv[] = {GF_PARQUET_NONE, GF_PARQUET_SNAPPY, GF_PARQUET_GZIP,
                                       GF_PARQUET_ZSTD, GF_PARQUET_LZ4_RAW};
  int ci = -1;
  for (int i = 0; i < 5; i++)
    if (strcmp(argv[3], codecs[i]) == 0) ci = i;
  if (ci < 0) {
    fprintf(stderr, "unknown codec %s\n", argv[3]);
    return 2;
  }
  gf_error err;
  gf_frame *f = NULL;
  bench_check(gf_read_ipc_file(argv[1], NULL, &f, &err), &err, "read");
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = atoi(argv[4]);
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.compression = cv[ci];
  o.parallel = &po;
  int runs = atoi(argv[5]);
  for (int r = 0; r < runs; r++) {
    double c0 = bench_cpu_s();
    int64_t t0 = bench_now_ns();
    bench_check(gf_write_parquet(f, argv[2], &o, &err), &err, "write");
    double wall = (double)(bench_now_ns() - t0) / 1e9, cpu = bench_cpu_s() - c0;
    struct stat sb;
    stat(argv[2], &sb);
    printf("gopherframe %s %s %.3f %.3f %lld\n", argv[3], argv[4], wall, cpu, (long long)sb.st_size);
    fflush(stdout);
  }
  gf_frame_release(f);
  return 0;
}
