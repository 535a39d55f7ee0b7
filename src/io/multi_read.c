/*
 * The per-file reader of multi-file scans: one function that maps a file
 * to the reader of its format, found from the file's first bytes (the
 * extension only a hint between text formats), so a directory may mix
 * CSV, NDJSON/JSON, Arrow IPC and Parquet files.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "gopherframe/format.h"
#include "gopherframe/json.h"
#include "gopherframe/parquet.h"
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
  gf_compression c = GF_COMPRESSION_NONE;
  gf_format_from_path(path, NULL, &c);
  if (c != GF_COMPRESSION_NONE)
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: %s-compressed files cannot be read in a multi-file scan yet; "
                        "decompress it or leave it out of the pattern",
                        path, gf_compression_name(c));
  return GF_OK;
}

gf_status gfi_file_kind_of(const char *path, gf_scan_format format, gfi_file_kind *kind,
                           gf_error *err) {
  if (format == GF_SCAN_FORMAT_IPC || format == GF_SCAN_FORMAT_CSV) {
    *kind = format == GF_SCAN_FORMAT_IPC ? GFI_FILE_IPC : GFI_FILE_CSV;
    return GF_OK;
  }
  GF_RETURN_NOT_OK(gfi_file_format_check(path, format, err));
  gf_file_format hint = GF_FORMAT_UNKNOWN;
  gf_format_from_path(path, &hint, NULL);
  /* A few KiB tell the binary formats and the first non-blank byte of
   * text apart. A file that cannot be opened is left to the reader the
   * extension names, whose error says why. */
  unsigned char head[4096];
  size_t n = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    *kind = gfi_file_is_ipc(path, format) ? GFI_FILE_IPC
            : hint == GF_FORMAT_PARQUET   ? GFI_FILE_PARQUET
            : hint == GF_FORMAT_NDJSON || hint == GF_FORMAT_JSON ? GFI_FILE_JSON
                                                                 : GFI_FILE_CSV;
    return GF_OK;
  }
  n = fread(head, 1, sizeof head, fp);
  fclose(fp);
  gf_compression c = gf_detect_compression(head, n);
  if (c != GF_COMPRESSION_NONE)
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: %s-compressed data cannot be read in a multi-file scan yet; "
                        "decompress it or leave it out of the pattern",
                        path, gf_compression_name(c));
  switch (gf_detect_format(head, n, hint)) {
  case GF_FORMAT_IPC_FILE:
  case GF_FORMAT_IPC_STREAM:
    *kind = GFI_FILE_IPC;
    return GF_OK;
  case GF_FORMAT_PARQUET:
    *kind = GFI_FILE_PARQUET;
    return GF_OK;
  case GF_FORMAT_NDJSON:
  case GF_FORMAT_JSON:
    *kind = GFI_FILE_JSON;
    return GF_OK;
  case GF_FORMAT_BINARY: {
    const char *what = gf_describe_binary(head, n);
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: %s, not a format a multi-file scan reads (CSV, TSV, NDJSON/JSON, "
                        "Arrow IPC, Parquet); leave it out of the pattern",
                        path, what ? what : "binary data");
  }
  default:
    *kind = GFI_FILE_CSV;
    return GF_OK;
  }
}

/* `f` narrowed to `columns` (NULL = all; f is consumed). */
static gf_status select_cols(gf_frame *f, const char *const *columns, int ncolumns, gf_frame **out,
                             gf_error *err) {
  if (!columns) {
    *out = f;
    return GF_OK;
  }
  gf_status st = gf_select(f, columns, ncolumns, out, err);
  gf_frame_release(f);
  return st;
}

gf_status gfi_read_one_file(const char *path, gf_scan_format format,
                            const gf_csv_read_options *csv, const gf_ipc_read_options *ipc,
                            const char *const *columns, int ncolumns,
                            const gf_parallel_options *par, gf_frame **out, gf_error *err) {
  gfi_file_kind kind;
  GF_RETURN_NOT_OK(gfi_file_kind_of(path, format, &kind, err));
  atomic_fetch_add(&files_opened, 1);
  gf_frame *f = NULL;
  switch (kind) {
  case GFI_FILE_IPC: {
    gf_ipc_read_options o;
    if (ipc) {
      o = *ipc;
    } else {
      gf_ipc_read_options_init(&o);
    }
    o.metadata = NULL;
    o.parallel = par;
    GF_RETURN_NOT_OK(gf_read_ipc(path, &o, &f, err));
    return select_cols(f, columns, ncolumns, out, err);
  }
  case GFI_FILE_PARQUET: {
    /* Only the column chunks asked for are read. */
    gf_parquet_read_options o;
    gf_parquet_read_options_init(&o);
    o.columns = columns;
    o.num_columns = columns ? ncolumns : 0;
    o.parallel = par;
    return gf_read_parquet(path, &o, out, err);
  }
  case GFI_FILE_JSON: {
    /* Whole, then selected: types are inferred from every value, so they
     * do not depend on the columns asked for. */
    gf_json_read_options o;
    gf_json_read_options_init(&o);
    o.parallel = par;
    GF_RETURN_NOT_OK(gf_read_json(path, &o, &f, err));
    return select_cols(f, columns, ncolumns, out, err);
  }
  case GFI_FILE_CSV:
    break;
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
