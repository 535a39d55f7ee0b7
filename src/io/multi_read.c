/*
 * The per-file reader of multi-file scans: one function that maps a file
 * to the reader of its format. Kept to one entry point on purpose: the
 * content-detecting input dispatch (format by magic bytes, compression)
 * replaces its body without touching its callers.
 */
#include <stdatomic.h>
#include <string.h>

#include "io/multi_internal.h"

static atomic_llong files_opened;

int64_t gfi_files_opened(void) { return (int64_t)atomic_load(&files_opened); }

static bool ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  if (m > n) return false;
  for (size_t i = 0; i < m; i++) {
    char c = s[n - m + i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != suf[i]) return false;
  }
  return true;
}

bool gfi_file_is_ipc(const char *path, gf_scan_format format) {
  if (format == GF_SCAN_FORMAT_IPC) return true;
  if (format == GF_SCAN_FORMAT_CSV) return false;
  return ends_with(path, ".arrow") || ends_with(path, ".feather") || ends_with(path, ".ipc") ||
         ends_with(path, ".arrows");
}

gf_status gfi_file_format_check(const char *path, gf_scan_format format, gf_error *err) {
  if (format != GF_SCAN_FORMAT_AUTO) return GF_OK;
  static const char *const later[] = {".parquet", ".ndjson", ".jsonl", ".json",
                                      ".gz",      ".zst",    ".lz4",   ".bz2"};
  for (size_t i = 0; i < sizeof later / sizeof *later; i++)
    if (ends_with(path, later[i]))
      return gf_error_set(err, GF_ENOTSUP,
                          "%s: %s files cannot be read in a multi-file scan yet (CSV, TSV and "
                          "Arrow IPC can); convert it or leave it out of the pattern",
                          path, later[i] + 1);
  return GF_OK;
}

gf_status gfi_read_one_file(const char *path, gf_scan_format format,
                            const gf_csv_read_options *csv, const gf_ipc_read_options *ipc,
                            const char *const *columns, int ncolumns,
                            const gf_parallel_options *par, gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_file_format_check(path, format, err));
  atomic_fetch_add(&files_opened, 1);
  if (gfi_file_is_ipc(path, format)) {
    gf_ipc_read_options o;
    if (ipc) {
      o = *ipc;
    } else {
      gf_ipc_read_options_init(&o);
    }
    o.metadata = NULL;
    o.parallel = par;
    gf_frame *f = NULL;
    GF_RETURN_NOT_OK(gf_read_ipc(path, &o, &f, err));
    if (!columns) {
      *out = f;
      return GF_OK;
    }
    gf_status st = gf_select(f, columns, ncolumns, out, err);
    gf_frame_release(f);
    return st;
  }
  gf_csv_read_options o;
  if (csv) {
    o = *csv;
  } else {
    gf_csv_read_options_init(&o);
  }
  o.columns = columns;
  o.num_columns = columns ? ncolumns : 0;
  o.parallel = par;
  return gf_read_csv(path, &o, out, err);
}
