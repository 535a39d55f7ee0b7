/*
 * gopherframe/io.h - reading and writing files: CSV.
 * Part of <gopherframe.h>; include that instead.
 */
#ifndef GOPHERFRAME_IO_H
#define GOPHERFRAME_IO_H

#include "data.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Progress callback: bytes processed so far out of total. Return false to
 * cancel (the call fails with GF_ECANCELED). Called from the calling thread
 * or a worker, never concurrently with itself. */
typedef bool (*gf_progress_fn)(void *user, int64_t done_bytes, int64_t total_bytes);

/**
 * How a reader gets at the bytes of a regular input file (CSV, Arrow IPC).
 * Pipes, FIFOs and character devices are always read into memory.
 *
 * GF_INPUT_MMAP maps the file: no copy, and IPC buffers are views of the
 * mapping. But the pages belong to the file: if another process truncates
 * it while the call (or, for IPC, any frame viewing the mapping) still
 * touches them, the kernel raises SIGBUS, whose default action kills the
 * process. The library installs no signal handler (it is embedded in other
 * programs); use GF_INPUT_READ when inputs may change under you, or handle
 * SIGBUS yourself with the ranges gf_set_file_observer reports.
 *
 * GF_INPUT_READ reads the whole file with pread into a buffer allocated
 * from the call's allocator (options->parallel->allocator), checking the
 * call's token and deadline between 16 MiB slices. Nothing is mapped, so
 * nothing can vanish: the bytes read are the bytes used. A file that
 * shrinks while being read fails with GF_EIO ("file changed size while
 * being read"); bytes appended after the open are not read.
 */
typedef enum gf_input_mode {
  GF_INPUT_MMAP = 0, /**< memory-map regular files (the default, zero-copy) */
  GF_INPUT_READ = 1  /**< read them into an owned buffer (cannot fault) */
} gf_input_mode;

/**
 * A process-wide observer of the files the library maps and of the
 * temporary files its atomic writers create, for a program that handles
 * SIGBUS itself (gf does): it can tell a fault on a mapped input from any
 * other and remove the temporary output file before exiting. NULL members
 * are skipped. Callbacks run in ordinary (not signal) context, on the
 * thread that maps, unmaps (whichever drops the last reference), creates
 * or finishes the file, possibly several at once; `path` is valid only
 * during the call (copy it).
 */
typedef struct gf_file_observer {
  /** An input file was mapped at [addr, addr + len) (after mmap). */
  void (*mapped)(void *user, const char *path, const void *addr, size_t len);
  /** The mapping made at `addr` is about to be unmapped. */
  void (*unmapped)(void *user, const void *addr, size_t len);
  /** A temporary output file `tmp_path` was created (true), or is gone:
   * renamed over its target or removed (false). */
  void (*temp_file)(void *user, const char *tmp_path, bool created);
  void *user;
} gf_file_observer;

/** Installs a copy of `o` (NULL removes it). Not synchronised with the
 * library's own threads: set it before any call that reads or writes a
 * file runs, and change it only when none does. */
GF_API void gf_set_file_observer(const gf_file_observer *o);

/** Per-column type override for the CSV reader. */
typedef struct gf_csv_column_type {
  const char *name;  /**< column name (as in the header, or "column_N" 1-based) */
  gf_datatype type;
} gf_csv_column_type;

/** How a value that does not parse as its forced type is handled. */
typedef enum gf_csv_bad_value {
  GF_CSV_BAD_VALUE_ERROR = 0, /**< GF_EPARSE with file, line and column */
  GF_CSV_BAD_VALUE_NULL = 1   /**< becomes null */
} gf_csv_bad_value;

/** Options of gf_read_csv. Zero/NULL fields mean "detect" or the default. */
typedef struct gf_csv_read_options {
  size_t size;               /**< sizeof(gf_csv_read_options) */
  char delimiter;            /**< 0 = detect among comma, semicolon, tab, pipe */
  char quote;                /**< 0 = '"'; set no_quoting to disable */
  bool no_quoting;
  char escape;               /**< 0 = none (RFC 4180 doubling only), e.g. '\\' */
  int header;                /**< -1 = detect (a first row of non-empty strings, empty
                                  fields allowed, is a header), 0 = no header, 1 = header */
  const char *const *null_values; /**< NULL = {"", "NA", "null", "NULL"}; */
  int num_null_values;
  const gf_csv_column_type *column_types; /**< overrides, may be NULL */
  int num_column_types;
  const char *const *columns;  /**< subset to parse (in file order), NULL = all */
  int num_columns;
  int64_t skip_rows;           /**< lines skipped before the header/data */
  char comment;                /**< 0 = none; lines starting with it are skipped */
  int64_t max_rows;            /**< 0 = all */
  bool no_dictionary;          /**< keep low-cardinality strings as utf8 */
  double dictionary_max_ratio; /**< distinct/rows at most this -> dictionary (0 = 0.5) */
  gf_csv_bad_value bad_value;
  gf_progress_fn progress;
  void *progress_user;
  const gf_parallel_options *parallel; /**< NULL = defaults */
  gf_input_mode input_mode; /**< default GF_INPUT_MMAP; see gf_input_mode */
} gf_csv_read_options;

GF_API void gf_csv_read_options_init(gf_csv_read_options *o);

/**
 * Reads a CSV file (memory-mapped unless options->input_mode is
 * GF_INPUT_READ, parsed in parallel) into a frame. The frame owns copies of
 * the values: the mapping is gone when the call returns, so only a
 * truncation during the call can raise SIGBUS (see gf_input_mode).
 * Bad input fails with GF_EPARSE and "FILE:LINE:COLUMN: what" in err.
 * Line ends are LF, CRLF, or (a file without any LF) CR alone. A header
 * field that is empty names its column "column_N" (1-based position);
 * repeated names get the first free suffix _1, _2, ... A header with no
 * data rows gives a frame of 0 rows (columns utf8 unless column_types says
 * otherwise); a file with neither is GF_EPARSE.
 */
GF_API gf_status gf_read_csv(const char *path, const gf_csv_read_options *o,
                             gf_frame **out, gf_error *err);
/** Same from memory (`name` is used in messages). */
GF_API gf_status gf_read_csv_buffer(const char *data, size_t len,
                                    const char *name,
                                    const gf_csv_read_options *o,
                                    gf_frame **out, gf_error *err);

/** Options of gf_write_csv. */
typedef struct gf_csv_write_options {
  size_t size;          /**< sizeof(gf_csv_write_options) */
  char delimiter;       /**< 0 = ',' */
  char quote;           /**< 0 = '"' */
  bool no_header;
  const char *null_value; /**< NULL = "" */
  const char *line_end;   /**< NULL = "\n" */
  const gf_parallel_options *parallel;
} gf_csv_write_options;

GF_API void gf_csv_write_options_init(gf_csv_write_options *o);

/**
 * Writes a frame as CSV (formatted in parallel, floats in the shortest
 * round-trip form, locale-independent) to a temporary file in the target's
 * directory, renamed over `path` only when everything succeeded: a failed
 * write leaves no partial file.
 */
GF_API gf_status gf_write_csv(const gf_frame *f, const char *path,
                              const gf_csv_write_options *o, gf_error *err);
/** Same to an open stream (no temporary file). */
GF_API gf_status gf_write_csv_stream(const gf_frame *f, FILE *out,
                                     const gf_csv_write_options *o,
                                     gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_IO_H */
