/*
 * gopherframe/files.h - many files as one frame: several paths, globs
 * (`*`, `?`, `[...]`, `**`), directories, Hive-style `key=value/`
 * partition directories, read as one plan source (docs/FILES.md).
 * Part of <gopherframe.h>; include that instead.
 *
 *     const char *pats[] = {"data/year=2024/part-?.csv"};
 *     gf_scan_files_options fo;
 *     gf_scan_files_options_init(&fo);
 *     fo.filename_column = "file";
 *     gf_plan_scan_files(pats, 1, &fo, NULL, &src, &err);
 *     gf_plan_filter(src, year_is_2024, &f, &err); // prunes partitions
 *
 * Paths: each argument is expanded on its own, its matches sorted by the
 * bytes of the path; arguments keep their order; a file named again
 * later (by another argument) is read once, where it first appeared.
 *  - a glob (an argument with `*`, `?` or `[` that is not an existing
 *    path): `*` and `?` match within one path segment, `[abc]`, `[a-z]`,
 *    `[!a]` / `[^a]` one byte of a set, `**` as a whole segment zero or
 *    more directories. A wildcard does not match a leading `.` (hidden
 *    entries) unless the segment itself starts with `.`; `**` does not
 *    enter hidden directories nor follow symbolic links to directories.
 *    Only regular files match. No match is GF_EINVAL naming the pattern.
 *  - a directory: every data file under it, recursively (see
 *    gf_is_data_file_name), skipping entries whose name starts with `.`
 *    or `_` (_SUCCESS, _temporary/, .part-0.crc) and symbolic links to
 *    directories. None is GF_EINVAL naming the directory.
 *  - anything else: that file, as is.
 *
 * Schemas: columns are matched by name; the result has the columns of
 * the files in order of first appearance (files in path order), then the
 * filename column, then the Hive columns. A column a file lacks is null
 * in its rows. Types unify as the CSV reader widens: integers of
 * different widths -> int64, integers and floats -> float64, a dictionary
 * and utf8 (or two dictionaries) -> utf8, anything with utf8 -> utf8 (a
 * CSV file is then read again with that column as text, so "007" stays
 * "007"; other files' values are cast). Anything else is GF_ETYPE naming
 * both files, the column and both types.
 */
#ifndef GOPHERFRAME_FILES_H
#define GOPHERFRAME_FILES_H

#include "exec.h"
#include "expr.h"
#include "io.h"
#include "ipc.h"
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How Hive-style `key=value` directories are used. */
typedef enum gf_hive_mode {
  GF_HIVE_AUTO = 0, /**< columns when every file has the same non-empty
                         list of keys (same order), else none */
  GF_HIVE_ON,       /**< columns; files whose keys differ are GF_EINVAL */
  GF_HIVE_OFF       /**< never */
} gf_hive_mode;

/** The format of the files of a multi-file scan. */
typedef enum gf_scan_format {
  GF_SCAN_FORMAT_AUTO = 0, /**< by extension: .arrow .feather .ipc .arrows
                                Arrow IPC, anything else CSV (the delimiter
                                detected, so .tsv works) */
  GF_SCAN_FORMAT_CSV,
  GF_SCAN_FORMAT_IPC
} gf_scan_format;

/** Options of gf_plan_scan_files / gf_read_files. Zeroed = defaults. */
typedef struct gf_scan_files_options {
  size_t size;                    /**< sizeof(gf_scan_files_options) */
  gf_scan_format format;          /**< hint for every file (AUTO = extension) */
  const char *filename_column;    /**< a utf8 column with each row's file path
                                       (as expanded), NULL = none */
  gf_hive_mode hive;              /**< default GF_HIVE_AUTO */
  const gf_csv_read_options *csv; /**< CSV files (NULL = defaults; columns,
                                       max_rows and parallel are ignored) */
  const gf_ipc_read_options *ipc; /**< IPC files (NULL = defaults) */
  int64_t small_file_bytes;       /**< files are read concurrently (one worker
                                       each) when their mean size is at most
                                       this, else one after another with every
                                       worker inside each; 0 = 8 MiB,
                                       -1 = never concurrently */
  int64_t max_rows;               /**< 0 = all; else the files are read in
                                       order, one after another, until this
                                       many rows, and the rest are not opened
                                       (as gf_csv_read_options.max_rows, the
                                       types are then those of the rows read) */
} gf_scan_files_options;

GF_API void gf_scan_files_options_init(gf_scan_files_options *o);

/**
 * True when `name` (a file name, no directory) is a data file a directory
 * scan reads: not starting with `.` or `_`, not ending in `.crc`, and
 * ending in .csv .tsv .txt .arrow .feather .ipc .arrows .parquet .ndjson
 * .jsonl .json, optionally followed by .gz .zst .lz4 .bz2 (any case).
 */
GF_API bool gf_is_data_file_name(const char *name);

/**
 * True when `path` matches glob `pattern` as a whole string (the rules at
 * the top of this header: `*`/`?`/`[...]` stay within a segment, a `**`
 * segment matches zero or more segments, wildcards skip leading dots).
 */
GF_API bool gf_glob_match(const char *pattern, const char *path);

/**
 * The files `patterns` (n >= 1) name, expanded as the top of this header
 * says. `*paths` (*npaths >= 1 entries) is one block, strings included,
 * freed with gf_mem_free.
 */
GF_API gf_status gf_expand_paths(const char *const *patterns, int n, char ***paths,
                                 int *npaths, gf_error *err);

/**
 * A plan source over the files `patterns` expand to, read as one frame
 * (rules at the top of this header). Every file's schema is read now,
 * files concurrently (CSV: a sample of 40000 / files rows, at least 256
 * and at most GF_PLAN_CSV_SAMPLE_ROWS; IPC: the metadata) under `build`
 * (NULL = defaults), and Hive values are parsed and typed now (int64,
 * float64, date32 when every value is one, else utf8; the value
 * __HIVE_DEFAULT_PARTITION__ and an empty value are null; %XX escapes
 * decoded in keys and values). Only regular files can be scanned.
 *
 * A predicate pushed into the source (gf_plan_filter above it) is
 * evaluated first on each file's Hive and filename values alone: a file
 * for which a conjunct reading only those columns is false or null is
 * not opened (partition pruning; EXPLAIN shows "files=N pruned=M"); the
 * predicate is still applied to the rows read. Projection reads only the
 * columns used. Rows: files in path order, each file's rows in order,
 * for any worker count.
 */
GF_API gf_status gf_plan_scan_files(const char *const *patterns, int n,
                                    const gf_scan_files_options *o,
                                    const gf_parallel_options *build, gf_plan **out,
                                    gf_error *err);

/** The files of a scan_files source and how many its pushed predicate
 * prunes (0 when none is pushed). GF_EINVAL when `p` is not one. */
GF_API gf_status gf_plan_files_pruned(const gf_plan *p, int *nfiles, int *npruned,
                                      gf_error *err);

/** gf_plan_scan_files then gf_plan_collect with `parallel`. */
GF_API gf_status gf_read_files(const char *const *patterns, int n,
                               const gf_scan_files_options *o,
                               const gf_parallel_options *parallel, gf_frame **out,
                               gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_FILES_H */
