/*
 * Streaming execution (docs/STREAMING.md): sources that hand out batches
 * with their absolute row offset, sinks that consume them, and the glue the
 * plan executor (src/plan/plan_stream.c) runs. Not installed.
 *
 * Shape of a streaming run: one source -> the fused streaming steps of a
 * chain (filter / with / select, run by gf_pipeline over each batch, in
 * parallel over the batch's morsels) -> one sink. Batches are handed to the
 * sink in source order with the absolute position of their first row in
 * the sink's input (the rows that survived the steps), so a sink that
 * reduces follows the project's 65,536-row grid of that input exactly as
 * the eager operator over the whole input would: results are bit for bit
 * the eager ones, whatever the worker count, window or morsel size.
 *
 * Memory: a run holds the source's batches in flight (one window or batch
 * and, with prefetch or read-ahead, the few made ahead: docs/STREAMING.md,
 * "Memory bound"), its pipeline output and the sink's state; nothing grows
 * with the input except what the sink keeps (groups; the collected
 * result).
 */
#ifndef GF_EXEC_STREAM_INTERNAL_H
#define GF_EXEC_STREAM_INTERNAL_H

#include <stdatomic.h>

#include "core/core_internal.h"
#include "gopherframe/groupby.h"
#include "gopherframe/io.h"
#include "gopherframe/parquet_write.h"

#include "gopherframe/ipc.h"
#include "gopherframe/sort_join.h"

/* ---- sources ------------------------------------------------------------ */

typedef struct gfi_source gfi_source;
struct gfi_source {
  /* Fixed before the first batch; owned by the source. */
  gf_schema *schema;
  /* Next batch (a frame of one or more record batches) and the absolute
   * row offset of its first row; *out = NULL at the end. */
  gf_status (*next)(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err);
  /* Frees the source (also after an error or before the end). */
  void (*free)(gfi_source *s);
  void *state;
  /* Optional (NULL = none): the final frame-wide dictionary of column c
   * (retained; NULL when c is not a dictionary column or batches carry
   * their own), asked after the last batch. */
  gf_array *(*dictionary)(gfi_source *s, int c);
};

/* A file's numbered batches for gfi_source_batches: read(user, i, po)
 * decodes batch i (thread-safe: several batches are read at once), row0
 * is its first row's absolute offset, rows its row count as the metadata
 * says (a weight; NULL = unknown), close frees user (always called, also
 * when gfi_source_batches fails). */
typedef struct gfi_batch_reader {
  gf_status (*read)(void *user, int i, const gf_parallel_options *po, gf_frame **out,
                    gf_error *err);
  int64_t (*row0)(void *user, int i);
  int64_t (*rows)(void *user, int i);
  void (*close)(void *user);
  void *user;
} gfi_batch_reader;

#define GFI_SOURCE_MAX_AHEAD 64

/* A source handing out batches 0..nbatches-1 of r in order, decoding up to
 * `ahead` (1..GFI_SOURCE_MAX_AHEAD) of them at once on the pool
 * (source_batches.c). Takes `schema` (also on failure); `po`: the run's
 * loaded options, kept by reference. The first failing batch ends the
 * source after the batches before it were handed out. */
gf_status gfi_source_batches(gf_schema *schema, int nbatches, const gfi_batch_reader *r,
                             const gf_parallel_options *po, int ahead, gfi_source **out,
                             gf_error *err);

/* Wraps `in` so that a producer thread reads its next batches while the
 * caller works on the current one (source_prefetch.c): the same batches,
 * positions and errors in the same order, at most `depth` (1..8) ready
 * ahead. *out = the wrapper, owning `in`; or `in` itself when depth < 1
 * or no thread could be started. On GF_ENOMEM *out = in (still usable). */
gf_status gfi_source_prefetch(gfi_source *in, int depth, gfi_source **out, gf_error *err);

/* An ArrowArrayStream source (source_stream.c): each batch imported and
 * checked in full (as gf_frame_import_stream with GF_IMPORT_CHECK_FULL)
 * when reached, narrowed to `cols` (names, NULL = all). Opening reads the
 * schema only; the first next() sets *consumed (failing when it was set
 * already) and from then on the source releases the stream when freed.
 * GF_ENOTSUP when the stream was consumed before opening. Not thread-safe
 * (call next() from one thread: do not prefetch it). */
struct ArrowArrayStream;
gf_status gfi_source_arrow_stream(struct ArrowArrayStream *stream, atomic_bool *consumed,
                                  const char *const *cols, int ncols,
                                  const gf_parallel_options *po, gfi_source **out,
                                  gf_error *err);

/* An Arrow IPC file source (source_ipc.c): opens in O(metadata)
 * (io/ipc_source.h); each record batch is a batch of the columns `cols`
 * (names, NULL = all), decoded and validated as o's validation level says
 * when first read, `ahead` at a time. Errors name the file and the batch. */
gf_status gfi_source_ipc(const char *path, const gf_ipc_read_options *o,
                         const char *const *cols, int ncols, const gf_parallel_options *po,
                         int ahead, gfi_source **out, gf_error *err);

/* An Arrow IPC stream-format file source (source_ipc_stream.c): message
 * by message, one record batch per next() (dictionary batches applied on
 * the way, as gf_read_ipc), of the columns `cols` (NULL = all), decoded
 * and validated as o's validation level says. Errors name the file and
 * the batch. */
gf_status gfi_source_ipc_stream(const char *path, const gf_ipc_read_options *o,
                                const char *const *cols, int ncols,
                                const gf_parallel_options *po, gfi_source **out, gf_error *err);

/* A Parquet file source (source_parquet.c): each row group kept by o's
 * predicate (statistics pruning, as gf_read_parquet) is a batch of o's
 * columns, `ahead` decoded at once; *skipped (may be NULL) receives the
 * row groups pruned. */
gf_status gfi_source_parquet(const char *path, const gf_parquet_read_options *o,
                             const gf_parallel_options *po, int ahead, int64_t *skipped,
                             gfi_source **out, gf_error *err);

/* A source over an in-memory frame: zero-copy slices of `rows` rows
 * (< 1: the frame's own record batches one at a time). Retains f. */
gf_status gfi_source_frame(const gf_frame *f, int64_t rows, gfi_source **out, gf_error *err);

/* A streaming CSV source over one regular file (docs/STREAMING.md):
 * the schema is inferred once from samples at five places of the file
 * (or taken from column_types); the file is then parsed window by window
 * (`window_bytes` of input, cut at a row boundary; <= 0 = 16 MiB), each
 * window in parallel with `po` (loaded options: the run's deadline, token
 * and memory limit). Dictionary columns share one append-only dictionary
 * with stable codes; each batch's dictionary is a snapshot of it (a prefix
 * of the final one). A value that does not fit the inferred type fails
 * with its line, column and a hint. GF_ENOTSUP (err set) for inputs the
 * source cannot stream: an escape character, a comment prefix, skip_rows,
 * CR-only line ends, max_rows; the caller then reads the file whole. */
gf_status gfi_source_csv(const char *path, const gf_csv_read_options *o,
                         const gf_parallel_options *po, int64_t window_bytes, gfi_source **out,
                         gf_error *err);
/* The final dictionary of column c of a CSV source (NULL: not a
 * dictionary column), retained. */
gf_array *gfi_source_csv_dictionary(gfi_source *s, int c);

/* What gfi_read_csv_window reports about the input's layout. */
typedef struct gfi_csv_layout {
  int64_t data_offset; /* byte offset of the first data row */
  int64_t data_line;   /* its physical line */
  char delimiter;      /* detected or given */
  bool header;
  int nfields;
  bool plain;          /* no escape, comment or CR-only line ends: rows end
                          at newlines outside quotes (parity) */
} gfi_csv_layout;

/* gf_read_csv_buffer with the input's first byte on physical line
 * `first_line` (messages name the file's own lines), the fields of an input
 * without header named field_names[0..n) (the file's header), and, when
 * `layout` is not NULL, a report of the layout (csv_read.c). */
gf_status gfi_read_csv_window(const char *data, size_t len, const char *name,
                              const gf_csv_read_options *o, int64_t first_line,
                              gfi_csv_layout *layout, const char *const *field_names,
                              int nfield_names, gf_frame **out, gf_error *err);

/* ---- sinks -------------------------------------------------------------- */

/* DuckDB's model reduced to what the driver needs: global state made by
 * the constructor, `push` of each batch in input order with the absolute
 * position of its first row in the sink's input, `finish` (combine +
 * finalize) once at the end, `free` always (after a failure it discards
 * whatever was written: a file sink leaves no file behind). */
typedef struct gfi_sink gfi_sink;
struct gfi_sink {
  gf_status (*push)(gfi_sink *k, const gf_frame *batch, int64_t pos, gf_error *err);
  gf_status (*finish)(gfi_sink *k, gf_frame **out, gf_error *err);
  void (*free)(gfi_sink *k);
  void *state;
  /* Optional (NULL: not supported): instead of finish, hands the result
   * to `next` batch by batch (next->push at increasing positions from 0);
   * the caller then calls next->finish. Lets a blocking sink (group-by,
   * sort, join) write a large result straight into a file sink. */
  gf_status (*finish_into)(gfi_sink *k, gfi_sink *next, gf_error *err);
};

/* Collect: the batches as they come (zero-copy), one frame at the end;
 * dictionary columns are given the final dictionary of `dicts[c]` (one
 * frame-wide dictionary; NULL entries or NULL = leave as they are). */
gf_status gfi_sink_collect(const gf_schema *schema, const gf_allocator *a, gfi_sink **out,
                           gf_error *err);
/* Sets the frame-wide dictionary of column c for collect's finish
 * (retained). */
void gfi_sink_collect_set_dictionary(gfi_sink *k, int c, gf_array *dict);

/* Group-by over batches of `schema`: keys and the aggregate list as
 * gf_group_by_list takes them; sort_keys as gf_groupby_options. Supported:
 * keys of integer (<= 64 bit), bool, utf8 and dictionary<utf8> types;
 * aggregates count, count(*), sum, mean, min, max, first and last of
 * integer / float / bool (sum, mean: not bool) columns. GF_ENOTSUP (err
 * set) for anything else: the caller runs the eager operator instead. */
gf_status gfi_sink_group_by(const gf_schema *schema, const char *const *keys, int nkeys,
                            const gf_agg_list *aggs, bool sort_keys,
                            const gf_parallel_options *po, gfi_sink **out, gf_error *err);
/* The schema of the group-by sink's result (what finish / finish_into
 * give), retained. */
gf_status gfi_sink_group_by_schema(gfi_sink *k, gf_schema **out, gf_error *err);
/* Test hook (process-wide; tests only): group-by sinks switch to their
 * spilled mode once they hold more than max_groups groups (<= 0: only
 * under the memory limit), with `partitions` partitions (<= 0: default). */
void gfi_sink_group_by_test_spill(int64_t max_groups, int partitions);
/* Test hook (sink_groupby.c): growing the group table re-hashes the keys
 * beyond 2^bits slots instead of the default 2^23 (0: default). */
void gfi_sink_group_by_test_tagbits(int bits);
/* The final dictionary of dictionary key column `c` of the sink's input
 * (the output's key arrays use it): set before finish (retained). */
void gfi_sink_group_by_set_dictionary(gfi_sink *k, int c, gf_array *dict);

/* A CSV file written batch by batch to a temporary file renamed over
 * `path` by finish (*out = NULL); free before finish removes it. */
gf_status gfi_sink_csv_file(const gf_schema *schema, const char *path, const gf_csv_write_options *w,
                            const gf_parallel_options *po, gfi_sink **out, gf_error *err);

/* A Parquet file written row group by row group (exec/sink_parquet.c):
 * batches are kept until they make whole row groups of
 * o->row_group_rows, which are encoded in parallel with `po` (loaded
 * options) and appended to a temporary file renamed over `path` by finish
 * (*out = NULL), after the last row group, the page index and the footer;
 * free before finish removes it. The bytes equal gf_write_parquet's of the
 * collected result (same options); a non-nullable field whose data holds
 * nulls is refused (GF_EINVAL naming the column and row), where
 * gf_write_parquet would write it OPTIONAL. `o` NULL = defaults. */
gf_status gfi_sink_parquet_file(const gf_schema *schema, const char *path,
                                const gf_parquet_write_options *o, const gf_parallel_options *po,
                                gfi_sink **out, gf_error *err);

/* Arrow IPC file / stream sinks (sink_ipc.c): the result written batch by
 * batch (io/ipc_write_internal.h); a file to a temporary name in the
 * output's directory renamed over `path` by finish (*out = NULL), removed
 * by free before finish; a stream to `path` likewise, or when path is NULL
 * to descriptor `fd` (not closed). `w`: compression and flags as
 * gf_write_ipc_file takes them (its `parallel` is ignored: `po`, loaded
 * options, is used). The bytes equal gf_write_ipc_file/stream of the
 * collected result when the dictionaries are set (below) before the first
 * batch; see ipc_write_internal.h for dictionaries that grow. */
gf_status gfi_sink_ipc_file(const gf_schema *schema, const char *path,
                            const gf_ipc_write_options *w, const gf_parallel_options *po,
                            gfi_sink **out, gf_error *err);
gf_status gfi_sink_ipc_stream(const gf_schema *schema, const char *path, int fd,
                              const gf_ipc_write_options *w, const gf_parallel_options *po,
                              gfi_sink **out, gf_error *err);
/* The frame-wide dictionary of column c of an IPC sink (retained); only
 * before the first push. */
void gfi_sink_ipc_set_dictionary(gfi_sink *k, int c, gf_array *dict);

/* A sort over batches of `schema` (sink_sort.c): keys as gf_sort takes
 * them, `po` the run's loaded options. Batches are kept (zero-copy) while
 * they fit; under a memory limit, once the in-memory sort of them (input,
 * key working set, one output batch) would cross ~90% of it, they are
 * spilled (uncompressed Arrow IPC, to a file in the spill directory
 * that is unlinked as soon as it is mapped back) and, at the end, mapped
 * back and sorted by the external sort (ops/sort_spill.c), whose key
 * working set spills too. finish gives gf_sort's frame; finish_into hands
 * gf_sort's batches (GFI_TAKE_BATCH_ROWS rows) one at a time to `next`.
 * GF_ENOTSUP (err set) for keys gf_sort would refuse (the caller falls
 * back to the eager path, whose error names the step). */
gf_status gfi_sink_sort(const gf_schema *schema, const gf_sort_key *keys, int nkeys,
                        const gf_parallel_options *po, gfi_sink **out, gf_error *err);
/* The final dictionary of dictionary column `c` of the sort's input
 * (retained): set before finish. */
void gfi_sink_sort_set_dictionary(gfi_sink *k, int c, gf_array *dict);
/* Test hook (process-wide): every sort sink spills its input from the
 * first batch on. */
void gfi_sink_sort_test_spill(bool on);
/* Sort sinks of the process that started spilling so far (tests). */
int64_t gfi_sink_sort_spills(void);

/* Wraps sink *k in a rebatching sink that hands it its input in batches
 * of exactly `rows` rows (<= 0: 65,536; the last batch shorter), copying
 * only batches that straddle pushed pieces, and takes it over (freed with
 * the wrapper; the wrapper's finish calls its finish). On failure *k is
 * unchanged. Used before file sinks fed by blocking sinks, so that the
 * file's batch boundaries do not depend on the memory limit or window. */
gf_status gfi_sink_rebatch(gfi_sink **k, int64_t rows, const gf_allocator *a, gf_error *err);

/* ---- aggregate lists (ops/agg_parse.c) ------------------------------------ */

/* The plain aggregates of a parsed list and their internal output names. */
void gfi_agg_list_specs(const gf_agg_list *l, const gf_agg_spec **specs, int *nspecs,
                        const char *const **inames);
/* gf_group_by_list's second half: the items computed over `agg` (the
 * group-by of the list's specs under their internal names), keys first;
 * `lo` loaded options. */
gf_status gfi_group_by_list_post(const gf_frame *agg, const char *const *keys, int nkeys,
                                 const gf_agg_list *l, const gf_parallel_options *lo,
                                 gf_frame **out, gf_error *err);

#endif /* GF_EXEC_STREAM_INTERNAL_H */
