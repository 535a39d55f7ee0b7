/*
 * gopherframe/ipc.h - Arrow IPC files (Feather v2) and streams: a zero-copy
 * memory-mapped reader and a writer with optional LZ4_FRAME / ZSTD body
 * compression. Part of <gopherframe.h>; include that instead.
 *
 * Thread safety: every function here is safe to call from several threads at
 * once on different outputs; frames read are ordinary immutable frames.
 */
#ifndef GOPHERFRAME_IPC_H
#define GOPHERFRAME_IPC_H

#include "data.h"
#include "exec.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Body compression of written record batches (per buffer, as Arrow does). */
typedef enum gf_ipc_compression {
  GF_IPC_COMPRESSION_NONE = 0,
  GF_IPC_COMPRESSION_LZ4_FRAME = 1, /**< needs a build with liblz4 */
  GF_IPC_COMPRESSION_ZSTD = 2       /**< needs a build with libzstd */
} gf_ipc_compression;

/** One custom metadata entry (UTF-8 key and value). */
typedef struct gf_ipc_key_value {
  const char *key;
  const char *value;
} gf_ipc_key_value;

/** Options of the IPC writers. Zero/NULL fields mean the default. */
typedef struct gf_ipc_write_options {
  size_t size;                      /**< sizeof(gf_ipc_write_options) */
  gf_ipc_compression compression;   /**< default NONE */
  int compression_level;            /**< 0 = the codec's default */
  const gf_ipc_key_value *metadata; /**< schema custom metadata, may be NULL */
  int num_metadata;
  const gf_parallel_options *parallel; /**< NULL = defaults (allocator too) */
  unsigned flags;                   /**< GF_IPC_WRITE_* bits; 0 by default */
} gf_ipc_write_options;

/**
 * Write utf8/large_utf8 columns (dictionary values included) as Utf8View
 * and binary/large_binary as BinaryView, for readers that prefer views: a
 * 16-byte view per row is built; the string bytes are written from the
 * column's own buffer (in windows of at most 2^31-1 bytes). Off by default.
 */
#define GF_IPC_WRITE_STRING_VIEWS 1u

GF_API void gf_ipc_write_options_init(gf_ipc_write_options *o);

/**
 * Writes `f` as an Arrow IPC file (magic, schema, one DictionaryBatch per
 * dictionary column, one RecordBatch per frame batch, footer). Bodies are
 * 64-byte aligned; compressed buffers are compressed in parallel. The data
 * goes to a temporary file in the target's directory, renamed over `path`
 * only when everything succeeded: a failed write leaves no partial file.
 * Compression requested in a build without the codec fails with GF_ENOTSUP.
 */
GF_API gf_status gf_write_ipc_file(const gf_frame *f, const char *path,
                                   const gf_ipc_write_options *o,
                                   gf_error *err);
/** Writes `f` as an Arrow IPC stream to `path` (temporary file + rename). */
GF_API gf_status gf_write_ipc_stream(const gf_frame *f, const char *path,
                                     const gf_ipc_write_options *o,
                                     gf_error *err);
/** Writes `f` as an Arrow IPC stream (with end-of-stream marker) to an open
 * file descriptor (a pipe, a socket...); the descriptor is not closed. */
GF_API gf_status gf_write_ipc_stream_fd(const gf_frame *f, int fd,
                                        const gf_ipc_write_options *o,
                                        gf_error *err);
/**
 * Writes `f` as an IPC file (`as_file` true) or stream into memory. `*out`
 * (allocated through the options' allocator, 64-byte aligned, freed with
 * gf_mem_free) receives the bytes and `*out_len` their number.
 */
GF_API gf_status gf_write_ipc_memory(const gf_frame *f, bool as_file,
                                     const gf_ipc_write_options *o,
                                     void **out, size_t *out_len,
                                     gf_error *err);

/** How much the reader checks the data (the metadata is always verified). */
typedef enum gf_ipc_validation {
  /** Default: every array fully validated (offsets, dictionary codes, null
   * counts, UTF-8) before it is handed out. Reads every buffer once. */
  GF_IPC_VALIDATE_FULL = 0,
  /** As FULL without the UTF-8 check. */
  GF_IPC_VALIDATE_NO_UTF8 = 1,
  /** Trusted files: only buffer sizes are checked against the lengths, the
   * body is not read (an mmap open costs only the metadata), statistics
   * have no min/max. Offsets or codes out of range in such a file are
   * undefined behaviour: use only for files this program wrote. */
  GF_IPC_VALIDATE_METADATA_ONLY = 2
} gf_ipc_validation;

/** Custom metadata read from a file's schema. */
typedef struct gf_ipc_metadata {
  int n;
  gf_ipc_key_value *entries; /**< n entries; keys/values NUL-terminated */
} gf_ipc_metadata;

/** Frees metadata returned by a reader. NULL allowed. */
GF_API void gf_ipc_metadata_free(gf_ipc_metadata *m);

/** Options of the IPC readers. */
typedef struct gf_ipc_read_options {
  size_t size;                   /**< sizeof(gf_ipc_read_options) */
  gf_ipc_validation validation;  /**< default GF_IPC_VALIDATE_FULL */
  /** When not NULL, receives the schema's custom metadata (free it with
   * gf_ipc_metadata_free; an empty list when there is none). */
  gf_ipc_metadata **metadata;
  const gf_parallel_options *parallel; /**< NULL = defaults (allocator too) */
  /** For the readers taking a path: GF_INPUT_MMAP (default) or
   * GF_INPUT_READ; see gf_input_mode. */
  gf_input_mode input_mode;
  /** When > 0, the result holds at most this many rows (the first ones).
   * An IPC file then reads, validates and measures only the batches that
   * hold them (what `gf head` uses); a stream is read whole and cut. */
  int64_t max_rows;
} gf_ipc_read_options;

GF_API void gf_ipc_read_options_init(gf_ipc_read_options *o);

/**
 * Reads an Arrow IPC file. The file is memory-mapped and uncompressed
 * buffers point into the mapping (each holds a reference to it, so the
 * mapping lives as long as the frame or any array taken from it). A
 * truncation of the file by another process while any of them is in use
 * raises SIGBUS when a vanished page is touched, long after the call
 * returned; with o->input_mode GF_INPUT_READ the file is read into one
 * owned buffer instead (the same views, of memory that cannot vanish; a
 * file that shrinks while being read is GF_EIO). Malformed
 * input fails with GF_EINVAL and the byte offset of the problem (a problem
 * inside a record batch also names the batch: "IPC file: record batch K (of
 * N, counted from 0): ..."; batches are decoded and validated in parallel,
 * and the lowest failing batch is the one reported); types the
 * library does not support (list, struct, union, map, interval...)
 * with GF_ENOTSUP naming the type; compressed files in a build without the
 * codec with GF_ENOTSUP.
 */
GF_API gf_status gf_read_ipc_file(const char *path,
                                  const gf_ipc_read_options *o,
                                  gf_frame **out, gf_error *err);
/** Reads an Arrow IPC stream from a file (mapped, or read, like
 * gf_read_ipc_file). */
GF_API gf_status gf_read_ipc_stream(const char *path,
                                    const gf_ipc_read_options *o,
                                    gf_frame **out, gf_error *err);
/** Reads an Arrow IPC stream from an open descriptor (a pipe, a socket):
 * the input is read to end of file, then decoded; the descriptor is not
 * closed. */
GF_API gf_status gf_read_ipc_stream_fd(int fd, const gf_ipc_read_options *o,
                                       gf_frame **out, gf_error *err);
/** Reads an IPC stream from memory (copied once: `data` may be freed after
 * the call). The legacy framing without continuation marker is accepted. */
GF_API gf_status gf_read_ipc_stream_buffer(const void *data, size_t len,
                                           const gf_ipc_read_options *o,
                                           gf_frame **out, gf_error *err);
/** Reads an IPC file from memory (copied once). */
GF_API gf_status gf_read_ipc_file_buffer(const void *data, size_t len,
                                         const gf_ipc_read_options *o,
                                         gf_frame **out, gf_error *err);
/** Reads `path` as an IPC file when it starts with the "ARROW1" magic and
 * as a stream otherwise (what `gf` uses for .arrow/.feather/.arrows). */
GF_API gf_status gf_read_ipc(const char *path, const gf_ipc_read_options *o,
                             gf_frame **out, gf_error *err);

/** What gf_ipc_read_schema reports: the metadata of an IPC file or stream. */
typedef struct gf_ipc_file_info {
  size_t size;          /**< sizeof(gf_ipc_file_info); set by gf_ipc_file_info_init */
  gf_schema *schema;    /**< a reference owned by the info (utf8/binary for view columns) */
  int num_columns;      /**< fields of the schema */
  int num_batches;      /**< record batches */
  int64_t num_rows;     /**< sum of the batches' lengths */
  /** Per column: the sum of the null counts the writer recorded in the
   * batches' metadata (not checked against the validity bitmaps: a full
   * read does that). */
  int64_t *null_counts;
  bool is_stream;       /**< an IPC stream rather than a file */
} gf_ipc_file_info;

/** Zeroes `info` and sets its size. */
GF_API void gf_ipc_file_info_init(gf_ipc_file_info *info);
/** Releases what `info` holds and initialises it again. NULL allowed. */
GF_API void gf_ipc_file_info_release(gf_ipc_file_info *info);

/**
 * Reads only the metadata of the IPC file or stream `path` (told apart by
 * the magic, like gf_read_ipc) into `info` (initialised with
 * gf_ipc_file_info_init; released with gf_ipc_file_info_release): the
 * schema, the number of batches and rows and the recorded null counts, and
 * the custom metadata when o->metadata is set. For a file only the footer,
 * the schema and each batch's message metadata are read (all verified);
 * no body byte is, so the cost does not grow with the data (a stream's
 * messages are walked, bodies skipped). Errors as gf_read_ipc's for
 * malformed metadata; malformed bodies are found only by a full read.
 */
GF_API gf_status gf_ipc_read_schema(const char *path, const gf_ipc_read_options *o,
                                    gf_ipc_file_info *info, gf_error *err);

/** True when this build can read and write the codec. */
GF_API bool gf_ipc_compression_available(gf_ipc_compression c);

#ifdef __cplusplus
}
#endif
#endif /* GOPHERFRAME_IPC_H */
