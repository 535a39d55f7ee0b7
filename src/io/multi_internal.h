/*
 * Internal parts of multi-file scans (include/gopherframe/files.h) shared
 * by the Hive partition parser (hive.c), the per-file reader dispatch and
 * the plan source (plan/plan_scan_multi.c), and the unit tests (not
 * installed).
 */
#ifndef GF_MULTI_INTERNAL_H
#define GF_MULTI_INTERNAL_H

#include "core/core_internal.h"

/* One `key=value` directory segment of a path, decoded. */
typedef struct gfi_hive_kv {
  char *key;
  char *value; /* NULL = null (__HIVE_DEFAULT_PARTITION__ or empty) */
} gfi_hive_kv;

/* The `key=value` directory segments of `path` (its directories only,
 * not the file name), in path order, %XX escapes decoded in both (an
 * invalid escape stays as written). *n may be 0 (*kv then NULL). */
gf_status gfi_hive_parse(const char *path, gfi_hive_kv **kv, int *n, gf_error *err);
void gfi_hive_kv_free(gfi_hive_kv *kv, int n);

/* Decodes %XX escapes of s[0, n) into a new string (default allocator,
 * free with gfi_mfree(NULL, p, strlen(p) + 1)); NULL when out of memory. */
char *gfi_url_decode(const char *s, size_t n);

/* The type of a Hive column with these values (NULL entries are null):
 * int64 when every non-null value is a decimal integer in range, else
 * float64 when every one is a decimal number, else date32 when every one
 * is a valid YYYY-MM-DD date, else utf8 (also when all are null). */
gf_datatype gfi_hive_infer(const char *const *values, int n);

/* A literal of `type` (as gfi_hive_infer chose it) for `value` (NULL =
 * a typed null); NULL when out of memory. */
gf_expr *gfi_hive_literal(const char *value, gf_datatype type);

/* The reader a file of a multi-file scan goes to. */
typedef enum gfi_file_kind { GFI_FILE_CSV, GFI_FILE_IPC, GFI_FILE_PARQUET, GFI_FILE_JSON } gfi_file_kind;

/* The reader of `path`: `format` CSV or IPC forces it; AUTO detects it
 * from the file's first bytes (gf_detect_format, the extension as a hint
 * between text formats): CSV/TSV, Arrow IPC file or stream, Parquet,
 * NDJSON or JSON. Compressed files (by extension or content) and binary
 * data of no known format are GF_ENOTSUP naming the file. A file that
 * cannot be opened goes by its extension (the reader reports why). */
gf_status gfi_file_kind_of(const char *path, gf_scan_format format, gfi_file_kind *kind,
                           gf_error *err);

/* Reads one file of a multi-file scan with the reader gfi_file_kind_of
 * picks, reading only `columns` (n >= 0; NULL = all: parsed only for
 * CSV, column chunks only for Parquet, selected after the read for IPC
 * and JSON); `csv` / `ipc` are the read options (NULL = defaults; their
 * columns and parallel members are replaced), `par` the call's parallel
 * options. The one place that maps a file to a reader. */
gf_status gfi_read_one_file(const char *path, gf_scan_format format,
                            const gf_csv_read_options *csv, const gf_ipc_read_options *ipc,
                            const char *const *columns, int ncolumns,
                            const gf_parallel_options *par, gf_frame **out, gf_error *err);

/* GF_ENOTSUP naming the file for a compressed file's extension (.gz .zst
 * .lz4 .bz2) when `format` is AUTO: multi-file scans read plain files. */
gf_status gfi_file_format_check(const char *path, gf_scan_format format, gf_error *err);

/* True when `format` AUTO or IPC reads `path` as Arrow IPC. */
bool gfi_file_is_ipc(const char *path, gf_scan_format format);

/* Test hook: files opened by gfi_read_one_file since the process
 * started (atomic). */
int64_t gfi_files_opened(void);

#endif /* GF_MULTI_INTERNAL_H */
