/*
 * bench_ipc: Arrow IPC write and read of a 10M-row mixed-type frame
 * (issue 7), uncompressed, LZ4_FRAME and ZSTD, beside Polars in the same run.
 *
 * The frame (built in memory, deterministic): id int64 (sequential), i32
 * int32 (5% null), f64 float64 (random), name utf8 ("u" + 1..7 digits), cat
 * dictionary<utf8> (100 levels), flag bool (10% null), day date32, ts
 * timestamp[us]; in batches of 1M rows. About 52 bytes per row.
 *
 * Cases (R runs each, interleaved so background load hits them alike):
 *   ipc_write_{none,lz4,zstd}  gf_write_ipc_file (temporary file + rename)
 *   page_cache_copy            read()+write() of the uncompressed file (hot in
 *                              the page cache) into a new file, 1 MiB blocks:
 *                              what a plain copy through the page cache costs
 *   ipc_open_mmap              gf_read_ipc_file of the uncompressed file with
 *                              GF_IPC_VALIDATE_METADATA_ONLY (mmap + metadata)
 *   ipc_read_{none,lz4,zstd}   gf_read_ipc_file, default full validation (every
 *                              buffer read once; compressed ones decoded)
 * Every output file is unlinked before each timed write or copy, so no run
 * pays for dropping the previous file's pages.
 *
 * Targets: open < 1% of the full uncompressed read; uncompressed write
 * >= 50% of the page-cache copy bandwidth (both in MB/s of file bytes).
 *
 * Polars: with --polars SCRIPT (tests/interop/bench_polars_ipc.js; NODE_PATH
 * must point at the interop cache's node_modules), after our cases the
 * script loads our uncompressed file into nodejs-polars and times its
 * writeIPC / readIPC of the same frame, uncompressed, LZ4 and ZSTD; its JSON
 * lines are passed through and added to the summary.
 *
 * Output: one JSON line per case on stdout (bench_common.h), then a
 * summary table on stderr.
 *
 * Usage: bench_ipc [--rows N] [--runs R] [--threads T] [--dir DIR]
 *                  [--polars SCRIPT]
 *   defaults: 10M rows, 5 runs, all usable CPUs, DIR = ., no Polars.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"

#define NCODEC 3
#define BATCH_ROWS 1000000

static const char *const CODEC_NAME[NCODEC] = {"none", "lz4", "zstd"};
static const gf_ipc_compression CODEC[NCODEC] = {
    GF_IPC_COMPRESSION_NONE, GF_IPC_COMPRESSION_LZ4_FRAME, GF_IPC_COMPRESSION_ZSTD};

/* xorshift64*: a fast deterministic generator for the data. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

#define NCOLS 8
static const char *const COL_NAME[NCOLS] = {"id", "i32", "f64", "name", "cat", "flag", "day", "ts"};

/* Column c's type. */
static gf_datatype col_type(int c) {
  switch (c) {
    case 0: return gf_type(GF_TYPE_INT64);
    case 1: return gf_type(GF_TYPE_INT32);
    case 2: return gf_type(GF_TYPE_FLOAT64);
    case 3: return gf_type(GF_TYPE_UTF8);
    case 4: return gf_type_dictionary(gf_type(GF_TYPE_UTF8));
    case 5: return gf_type(GF_TYPE_BOOL);
    case 6: return gf_type(GF_TYPE_DATE32);
    default: return gf_type_timestamp(GF_UNIT_MICRO, false, 0);
  }
}

/* Appends row `row` of column c (values drawn from *s). */
static gf_status append_value(gf_builder *b, int c, int64_t row, uint64_t *s, gf_error *err) {
  uint64_t r = next_rand(s);
  char text[32];
  switch (c) {
    case 0: return gf_builder_append_int64(b, row, err);
    case 1:
      if (r % 20 == 0) return gf_builder_append_null(b, err);
      return gf_builder_append_int64(b, (int64_t)(r >> 40) - (1 << 23), err);
    case 2: return gf_builder_append_double(b, (double)(r >> 11) / 9007199254740992.0 * 1e6, err);
    case 3:
      snprintf(text, sizeof text, "u%llu", (unsigned long long)((r >> 20) % 10000000));
      return gf_builder_append_string(b, text, err);
    case 4:
      snprintf(text, sizeof text, "level%02u", (unsigned)((r >> 33) % 100));
      return gf_builder_append_string(b, text, err);
    case 5:
      if (r % 10 == 0) return gf_builder_append_null(b, err);
      return gf_builder_append_bool(b, (r >> 40) & 1, err);
    case 6: return gf_builder_append_int64(b, 10000 + (int64_t)((r >> 30) % 20000), err);
    default:
      return gf_builder_append_int64(b, 1600000000000000LL + (int64_t)((r >> 8) % 100000000000000ULL), err);
  }
}

/* The benchmark frame: `rows` rows in batches of BATCH_ROWS. */
static gf_frame *make_frame(int64_t rows) {
  gf_error err;
  gf_error_clear(&err);
  int nb = (int)((rows + BATCH_ROWS - 1) / BATCH_ROWS);
  gf_array **cols = calloc((size_t)nb * NCOLS, sizeof *cols);
  if (!cols) {
    fprintf(stderr, "bench_ipc: out of memory\n");
    exit(1);
  }
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  for (int bi = 0; bi < nb; bi++) {
    int64_t lo = (int64_t)bi * BATCH_ROWS, n = rows - lo < BATCH_ROWS ? rows - lo : BATCH_ROWS;
    for (int c = 0; c < NCOLS; c++) {
      gf_builder *b = NULL;
      bench_check(gf_builder_new(col_type(c), NULL, &b, &err), &err, "gf_builder_new");
      bench_check(gf_builder_reserve(b, n, c == 3 ? n * 8 : 0, &err), &err, "gf_builder_reserve");
      for (int64_t i = 0; i < n; i++)
        bench_check(append_value(b, c, lo + i, &seed, &err), &err, "append");
      bench_check(gf_builder_finish(b, &cols[bi * NCOLS + c], &err), &err, "gf_builder_finish");
      gf_builder_free(b);
    }
  }
  gf_field fields[NCOLS];
  for (int c = 0; c < NCOLS; c++) fields[c] = (gf_field){COL_NAME[c], col_type(c), true};
  gf_schema *schema = NULL;
  bench_check(gf_schema_new(fields, NCOLS, &schema, &err), &err, "gf_schema_new");
  gf_frame *f = NULL;
  bench_check(gf_frame_new(schema, cols, nb, NULL, &f, &err), &err, "gf_frame_new");
  gf_schema_release(schema);
  for (int i = 0; i < nb * NCOLS; i++) gf_array_release(cols[i]);
  free(cols);
  return f;
}

static double file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

/* Copies src to dst with read()/write() of 1 MiB; returns seconds. */
static double copy_file(const char *src, const char *dst) {
  static char buf[1 << 20];
  unlink(dst);
  int64_t t0 = bench_now_ns();
  int in = open(src, O_RDONLY);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) {
    fprintf(stderr, "bench_ipc: copy %s -> %s: %s\n", src, dst, strerror(errno));
    exit(1);
  }
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      perror("bench_ipc: read");
      exit(1);
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        perror("bench_ipc: write");
        exit(1);
      }
      off += w;
    }
  }
  close(in);
  if (close(out) != 0) {
    perror("bench_ipc: close");
    exit(1);
  }
  return (double)(bench_now_ns() - t0) / 1e9;
}

/* Sum of the int64 id column: touches one column of a read frame. */
static double id_sum(const gf_frame *f) { return bench_column_sum(f, "id"); }

typedef struct summary_row {
  char system[16], name[48];
  double median_s, mb_s, file_mb;
} summary_row;

static summary_row summary[64];
static int nsummary;

static void add_summary(const char *system, const char *name, double median_s, double mb_s,
                        double file_mb) {
  if (nsummary >= 64) return;
  summary_row *r = &summary[nsummary++];
  snprintf(r->system, sizeof r->system, "%s", system);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->median_s = median_s;
  r->mb_s = mb_s;
  r->file_mb = file_mb;
}

/* Prints one of our result lines and records it for the summary. */
static void report(const char *case_name, int64_t rows, int threads, double *secs, double *cpu,
                   int runs, double bytes, double checksum) {
  bench_result res;
  bench_result_init(&res, case_name, "ipc_mixed", rows, threads);
  bench_result_times(&res, secs, cpu, runs);
  res.rows = rows;
  res.checksum[res.nchecksum++] = checksum;
  if (bytes > 0) {
    bench_result_extra(&res, "mb_s", bytes / 1e6 / res.median_s);
    bench_result_extra(&res, "file_mb", bytes / 1e6);
  }
  bench_result_print(&res);
  add_summary("gopherframe", case_name, res.median_s, bytes > 0 ? bytes / 1e6 / res.median_s : 0,
              bytes / 1e6);
}

/* Pulls a number after "key": in a JSON line; NAN-free: -1 when absent. */
static double json_number(const char *line, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(line, pat);
  return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* Runs the Polars script on our uncompressed file; passes its JSON lines
 * through and adds them to the summary. */
static void run_polars(const char *script, const char *dir, const char *ours, int runs) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s' %d", script, ours, dir, runs);
  FILE *p = popen(cmd, "r");
  if (!p) {
    perror("bench_ipc: popen node");
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, p)) {
    fputs(line, stdout);
    fflush(stdout);
    const char *c = strstr(line, "\"case\":\"");
    if (!c) continue;
    char name[48];
    size_t n = strcspn(c + 8, "\"");
    snprintf(name, sizeof name, "%.*s", (int)(n < 47 ? n : 47), c + 8);
    add_summary("polars", name, json_number(line, "median_s"), json_number(line, "mb_s"),
                json_number(line, "file_mb"));
  }
  int rc = pclose(p);
  if (rc != 0) fprintf(stderr, "bench_ipc: the Polars script failed (status %d)\n", rc);
}

static double find_median(const char *system, const char *name) {
  for (int i = 0; i < nsummary; i++)
    if (!strcmp(summary[i].system, system) && !strcmp(summary[i].name, name))
      return summary[i].median_s;
  return -1;
}
static double find_mbs(const char *system, const char *name) {
  for (int i = 0; i < nsummary; i++)
    if (!strcmp(summary[i].system, system) && !strcmp(summary[i].name, name))
      return summary[i].mb_s;
  return -1;
}

int main(int argc, char **argv) {
  int64_t rows = 10000000;
  int runs = 5, threads = 0;
  const char *dir = ".", *polars = NULL;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v && !strcmp(argv[i], "--rows")) {
      rows = bench_parse_count("--rows", v), i++;
    } else if (v && !strcmp(argv[i], "--runs")) {
      runs = (int)bench_parse_count("--runs", v), i++;
    } else if (v && !strcmp(argv[i], "--threads")) {
      threads = (int)bench_parse_count("--threads", v), i++;
    } else if (v && !strcmp(argv[i], "--dir")) {
      dir = v, i++;
    } else if (v && !strcmp(argv[i], "--polars")) {
      polars = v, i++;
    } else {
      fprintf(stderr,
              "usage: bench_ipc [--rows N] [--runs R] [--threads T] [--dir DIR] [--polars SCRIPT]\n");
      return 2;
    }
  }
  if (rows < 1 || runs < 1 || runs > BENCH_MAX_RUNS) {
    fprintf(stderr, "bench_ipc: --rows must be >= 1 and --runs in 1..%d\n", BENCH_MAX_RUNS);
    return 2;
  }
  if (threads <= 0) threads = gf_default_num_workers();
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  po.num_workers = threads;
  gf_error err;
  gf_error_clear(&err);

  int64_t t0 = bench_now_ns();
  gf_frame *frame = make_frame(rows);
  fprintf(stderr, "bench_ipc: built %lld rows x %d columns in %.2f s\n", (long long)rows, NCOLS,
          (double)(bench_now_ns() - t0) / 1e9);
  const double want_sum = id_sum(frame);

  char path[NCODEC][1024], copy_path[1024];
  for (int k = 0; k < NCODEC; k++)
    snprintf(path[k], sizeof path[k], "%s/bench-ipc-%s.ipc", dir, CODEC_NAME[k]);
  snprintf(copy_path, sizeof copy_path, "%s/bench-ipc-copy.ipc", dir);

  bool have[NCODEC];
  for (int k = 0; k < NCODEC; k++) have[k] = gf_ipc_compression_available(CODEC[k]);

  /* Writes and copies, interleaved per run. */
  double wsec[NCODEC][BENCH_MAX_RUNS], wcpu[NCODEC][BENCH_MAX_RUNS];
  double csec[BENCH_MAX_RUNS], ccpu[BENCH_MAX_RUNS];
  for (int r = 0; r < runs; r++) {
    for (int k = 0; k < NCODEC; k++) {
      if (!have[k]) continue;
      gf_ipc_write_options wo;
      gf_ipc_write_options_init(&wo);
      wo.compression = CODEC[k];
      wo.parallel = &po;
      unlink(path[k]);
      double c0 = bench_cpu_s();
      int64_t s0 = bench_now_ns();
      gf_status st = gf_write_ipc_file(frame, path[k], &wo, &err);
      wsec[k][r] = (double)(bench_now_ns() - s0) / 1e9;
      wcpu[k][r] = bench_cpu_s() - c0;
      bench_check(st, &err, "gf_write_ipc_file");
      if (k == 0) {
        /* Right after the file was written, while it is hot. */
        double c1 = bench_cpu_s();
        csec[r] = copy_file(path[0], copy_path);
        ccpu[r] = bench_cpu_s() - c1;
      }
    }
    if (r == 0) bench_mark_first_run();
  }
  double bytes[NCODEC];
  for (int k = 0; k < NCODEC; k++) bytes[k] = have[k] ? file_size(path[k]) : 0;
  for (int k = 0; k < NCODEC; k++) {
    if (!have[k]) {
      fprintf(stderr, "bench_ipc: %s not built in; skipped\n", CODEC_NAME[k]);
      continue;
    }
    char name[48];
    snprintf(name, sizeof name, "ipc_write_%s", CODEC_NAME[k]);
    report(name, rows, threads, wsec[k], wcpu[k], runs, bytes[k], want_sum);
  }
  report("page_cache_copy", rows, 1, csec, ccpu, runs, bytes[0], 0);
  unlink(copy_path);

  /* Reads: the mmap open and the full reads, interleaved per run. */
  double osec[BENCH_MAX_RUNS], ocpu[BENCH_MAX_RUNS];
  double rsec[NCODEC][BENCH_MAX_RUNS], rcpu[NCODEC][BENCH_MAX_RUNS];
  for (int r = 0; r < runs; r++) {
    gf_ipc_read_options ro;
    gf_ipc_read_options_init(&ro);
    ro.parallel = &po;
    ro.validation = GF_IPC_VALIDATE_METADATA_ONLY;
    gf_frame *f = NULL;
    double c0 = bench_cpu_s();
    int64_t s0 = bench_now_ns();
    gf_status st = gf_read_ipc_file(path[0], &ro, &f, &err);
    osec[r] = (double)(bench_now_ns() - s0) / 1e9;
    ocpu[r] = bench_cpu_s() - c0;
    bench_check(st, &err, "gf_read_ipc_file (metadata only)");
    if (gf_frame_num_rows(f) != rows || id_sum(f) != want_sum) {
      fprintf(stderr, "bench_ipc: the opened file does not hold the frame written\n");
      return 1;
    }
    gf_frame_release(f);
    for (int k = 0; k < NCODEC; k++) {
      if (!have[k]) continue;
      ro.validation = GF_IPC_VALIDATE_FULL;
      f = NULL;
      c0 = bench_cpu_s();
      s0 = bench_now_ns();
      st = gf_read_ipc_file(path[k], &ro, &f, &err);
      rsec[k][r] = (double)(bench_now_ns() - s0) / 1e9;
      rcpu[k][r] = bench_cpu_s() - c0;
      bench_check(st, &err, "gf_read_ipc_file");
      if (gf_frame_num_rows(f) != rows || id_sum(f) != want_sum) {
        fprintf(stderr, "bench_ipc: %s read back different data\n", path[k]);
        return 1;
      }
      gf_frame_release(f);
    }
  }
  report("ipc_open_mmap", rows, threads, osec, ocpu, runs, 0, want_sum);
  for (int k = 0; k < NCODEC; k++) {
    if (!have[k]) continue;
    char name[48];
    snprintf(name, sizeof name, "ipc_read_%s", CODEC_NAME[k]);
    report(name, rows, threads, rsec[k], rcpu[k], runs, bytes[k], want_sum);
  }
  gf_frame_release(frame);

  if (polars) run_polars(polars, dir, path[0], runs);
  for (int k = 0; k < NCODEC; k++) unlink(path[k]);

  /* The summary and the two targets. */
  double la[3] = {0, 0, 0};
  FILE *lf = fopen("/proc/loadavg", "r");
  if (lf) {
    if (fscanf(lf, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3) la[0] = la[1] = la[2] = 0;
    fclose(lf);
  }
  fprintf(stderr, "\n%lld rows, %d threads, %d runs (medians); load average at the end %.2f %.2f %.2f\n",
          (long long)rows, threads, runs, la[0], la[1], la[2]);
  fprintf(stderr, "| system | case | median ms | MB/s | file MB |\n|---|---|---|---|---|\n");
  for (int i = 0; i < nsummary; i++) {
    char mbs[32] = "-", mb[32] = "-";
    if (summary[i].mb_s > 0) snprintf(mbs, sizeof mbs, "%.0f", summary[i].mb_s);
    if (summary[i].file_mb > 0) snprintf(mb, sizeof mb, "%.1f", summary[i].file_mb);
    fprintf(stderr, "| %s | %s | %.3f | %s | %s |\n", summary[i].system, summary[i].name,
            summary[i].median_s * 1e3, mbs, mb);
  }
  double open_s = find_median("gopherframe", "ipc_open_mmap");
  double read_s = find_median("gopherframe", "ipc_read_none");
  double write_mbs = find_mbs("gopherframe", "ipc_write_none");
  double copy_mbs = find_mbs("gopherframe", "page_cache_copy");
  fprintf(stderr, "\nmmap open / full read: %.3f%% (target < 1%%): %s\n", 100 * open_s / read_s,
          open_s < 0.01 * read_s ? "met" : "NOT met");
  fprintf(stderr, "uncompressed write / page-cache copy: %.1f%% (target >= 50%%): %s\n",
          100 * write_mbs / copy_mbs, write_mbs >= 0.5 * copy_mbs ? "met" : "NOT met");
  return 0;
}
