/*
 * gopherframe/format.h - telling file formats and compressions apart by
 * their first bytes, reading a (possibly compressed) input sequentially
 * (a file, a pipe, standard input), and writing compressed text output.
 * Part of <gopherframe.h>; include that instead.
 *
 * Detection rules (docs/FORMATS.md): the content decides when it carries a
 * signature (Arrow IPC file "ARROW1", IPC stream continuation marker or
 * legacy length prefix followed by a Schema message, Parquet "PAR1", gzip,
 * zstd, lz4 frame, bzip2); text is told apart by its first non-blank byte
 * ('[' JSON, '{' NDJSON or JSON) unless the extension names a text format;
 * CSV and TSV are the remaining text, TSV only by extension (the CSV
 * reader sniffs the delimiter either way). The extension is a hint; an
 * explicit format given by the caller overrides both.
 */
#ifndef GOPHERFRAME_FORMAT_H
#define GOPHERFRAME_FORMAT_H

#include <stdio.h>

#include "core.h"
#include "exec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A data file format. */
typedef enum gf_file_format {
  GF_FORMAT_UNKNOWN = 0,
  GF_FORMAT_CSV,
  GF_FORMAT_TSV,
  GF_FORMAT_NDJSON,
  GF_FORMAT_JSON,       /**< one JSON array of objects */
  GF_FORMAT_IPC_FILE,   /**< Arrow IPC file (Feather v2), "ARROW1" */
  GF_FORMAT_IPC_STREAM, /**< Arrow IPC stream */
  GF_FORMAT_PARQUET,
  GF_FORMAT_BINARY      /**< detected: not text, and no format we know */
} gf_file_format;

/** A whole-file compression (not Arrow IPC body compression). */
typedef enum gf_compression {
  GF_COMPRESSION_NONE = 0,
  GF_COMPRESSION_GZIP,
  GF_COMPRESSION_ZSTD,
  GF_COMPRESSION_LZ4_FRAME,
  GF_COMPRESSION_BZIP2
} gf_compression;

/** Short name: "csv" "tsv" "ndjson" "json" "arrow" "arrows" "parquet"
 * "binary" "unknown". */
GF_API const char *gf_file_format_name(gf_file_format f);
/** Short name: "none" "gzip" "zstd" "lz4" "bzip2". */
GF_API const char *gf_compression_name(gf_compression c);
/** The usual file extension with its dot (".gz" ".zst" ".lz4" ".bz2"; ""
 * for none). */
GF_API const char *gf_compression_extension(gf_compression c);
/** True when this build can read and write `c` (NONE always). */
GF_API bool gf_compression_available(gf_compression c);

/** Parses a format name as a user types it (case-insensitive): csv, tsv,
 * ndjson/jsonl, json, arrow/ipc/feather (IPC file), arrows/ipc-stream,
 * parquet. Returns false for anything else. */
GF_API bool gf_file_format_parse(const char *name, gf_file_format *out);

/** The format and compression `path`'s extension suggests, e.g.
 * "a.csv.gz" -> CSV + GZIP, "b.arrows" -> IPC_STREAM; UNKNOWN/NONE when
 * it suggests nothing. Either out pointer may be NULL. */
GF_API void gf_format_from_path(const char *path, gf_file_format *format,
                                gf_compression *compression);

/** The compression whose signature starts `head` (NONE otherwise). */
GF_API gf_compression gf_detect_compression(const void *head, size_t len);

/**
 * The format of uncompressed data starting with `head` (the first `len`
 * bytes; 64 KiB is plenty, a few bytes tell the binary formats), with
 * `hint` (the extension's suggestion, UNKNOWN for none) deciding between
 * text formats. Data that is not text (a NUL byte, or mostly bytes that
 * are neither UTF-8 nor printable) and matches no signature is
 * GF_FORMAT_BINARY; empty data is `hint`, or CSV.
 */
GF_API gf_file_format gf_detect_format(const void *head, size_t len,
                                       gf_file_format hint);

/** What binary data starting with `head` looks like, for an error message
 * ("a zip archive (.zip, .xlsx...)", "an xz stream", "a gzip stream"...),
 * or NULL when it matches no signature we can name. */
GF_API const char *gf_describe_binary(const void *head, size_t len);

/* ------------------------------------------------------------------ */
/* Sequential input: a file, a pipe or standard input, decompressed     */
/* ------------------------------------------------------------------ */

/** Reads up to `cap` bytes into `buf`; *got = 0 means end of input.
 * Returns GF_OK or an error status with `err` set. */
typedef gf_status (*gf_read_fn)(void *user, void *buf, size_t cap,
                                size_t *got, gf_error *err);

/**
 * An input read front to back once: its compression is detected from its
 * first bytes, and gf_input_read returns the decompressed bytes from the
 * beginning. Owned by one thread at a time.
 */
typedef struct gf_input gf_input;

/**
 * Opens `path` ("-" = standard input, not closed by gf_input_close) and
 * reads its first bytes: the compression signature, and then up to 64 KiB
 * of decompressed data kept for gf_input_head. `o` supplies the allocator
 * and the cancellation token / deadline checked between reads (NULL =
 * defaults). Errors: GF_EIO "PATH: reason", a corrupt or truncated
 * compressed stream GF_EPARSE with the compressed byte offset, GF_ENOTSUP
 * for a compression this build lacks, GF_ENOMEM.
 */
GF_API gf_status gf_input_open(const char *path, const gf_parallel_options *o,
                               gf_input **out, gf_error *err);
/** Same over a read callback (`name` is used in messages). */
GF_API gf_status gf_input_open_reader(gf_read_fn fn, void *user,
                                      const char *name,
                                      const gf_parallel_options *o,
                                      gf_input **out, gf_error *err);
/** The detected compression. */
GF_API gf_compression gf_input_compression(const gf_input *in);
/** True when the input is a regular file (not a pipe, not stdin-from-a-
 * pipe), so a reader may reopen it by path. */
GF_API bool gf_input_is_regular_file(const gf_input *in);
/** The first decompressed bytes (up to 64 KiB, fewer only when the data
 * is shorter). Valid until gf_input_close. */
GF_API const void *gf_input_head(const gf_input *in, size_t *len);
/** The next decompressed bytes (those of the head first); *got = 0 at the
 * end. A compressed stream that ends early, has trailing garbage or fails
 * its checksum is GF_EPARSE "NAME: truncated gzip stream (ended at
 * compressed byte N)" or similar. */
GF_API gf_status gf_input_read(gf_input *in, void *buf, size_t cap,
                               size_t *got, gf_error *err);
/** Reads what is left into one block allocated through the input's
 * allocator (free with gf_mem_free; never NULL on success, even when
 * empty). */
GF_API gf_status gf_input_read_all(gf_input *in, void **data, size_t *len,
                                   gf_error *err);
/** Closes the file (not standard input) and frees `in`. NULL allowed. */
GF_API void gf_input_close(gf_input *in);

/* ------------------------------------------------------------------ */
/* Compressed text output                                              */
/* ------------------------------------------------------------------ */

/**
 * A text output: a file replaced atomically (as gf_output_file) or
 * standard output ("-", written as it comes: what reached it cannot be
 * taken back), optionally compressed. Writers that take a FILE *
 * (gf_write_csv_stream, gf_frame_print...) write to gf_text_output_stream.
 */
typedef struct gf_text_output gf_text_output;

/** Opens `path` ("-" = standard output), compressing with `c` at `level`
 * (0 = the codec's default). GF_ENOTSUP when this build lacks the codec. */
GF_API gf_status gf_text_output_open(const char *path, gf_compression c,
                                     int level, const gf_allocator *a,
                                     gf_text_output **out, gf_error *err);
/** The stdio stream to write to (owned by the output). */
GF_API FILE *gf_text_output_stream(gf_text_output *o);
/**
 * Finishes and frees `o`. With `commit` true: flushes the stream, ends the
 * compressed stream and renames the file over its target (on any failure
 * the temporary file is removed and the error returned). With `commit`
 * false: removes the temporary file and returns GF_OK, or the write error
 * the output itself met (disk full...) so the caller can report that
 * rather than its own symptom.
 */
GF_API gf_status gf_text_output_close(gf_text_output *o, bool commit,
                                      gf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_FORMAT_H */
