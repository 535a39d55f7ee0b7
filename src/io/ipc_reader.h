/*
 * The Arrow IPC decoder shared by the eager readers (ipc_read.c) and the
 * lazy file source (ipc_source.c). Not installed.
 *
 * A gfi_ipc_reader holds what is fixed once the schema is decoded (the
 * input, the schema, the per-column layout facts, the dictionaries) plus
 * the state of one call (allocator, error slot, token and deadline). The
 * lazy source decodes batches on several threads at once: each decode
 * works on its own shallow copy of the reader (gfi_ipc_reader_fork) whose
 * call fields are its own and whose shared fields it only reads.
 */
#ifndef GF_IO_IPC_READER_H
#define GF_IO_IPC_READER_H

#include "io/ipc_internal.h"

typedef struct gfi_ipc_dict {
  int64_t id;
  gf_datatype value_type;
  bool view;      /* values are Utf8View/BinaryView in the body */
  gf_array *dict; /* current dictionary, NULL until its batch is read */
} gfi_ipc_dict;

typedef struct gfi_ipc_col {
  gf_datatype type; /* dictionary type for dictionary-encoded fields */
  int dict;         /* index into dicts, or -1 */
  int index_width;  /* bytes of the IPC index type */
  bool index_signed;
  bool view;        /* Utf8View/BinaryView in the body (not dictionary) */
} gfi_ipc_col;

typedef struct gfi_ipc_reader {
  /* Shared, fixed once the schema is decoded (dicts[k].dict aside, which
   * the caller fills before any batch that uses it is decoded). */
  const uint8_t *data;
  size_t len;
  gf_buffer *whole; /* owns `data` */
  gf_ipc_validation validation;
  gf_schema *schema;
  int ncols;
  gfi_ipc_col *cols;
  gfi_ipc_dict *dicts;
  int ndicts;
  const gf_allocator *meta_alloc; /* cols/dicts were allocated here */
  /* The call: allocator of new buffers and arrays, error slot, token and
   * deadline (par), when it started. */
  const gf_allocator *a;
  gf_error *err;
  gf_parallel_options par;
  int64_t start_ns;
  gf_ipc_metadata **meta_out;
  /* The eager stream reader's output: gf_array *, batch-major. */
  gfi_vec columns;
  int nbatches;
} gfi_ipc_reader;

/* A parsed message: its header table and where its body lies. */
typedef struct gfi_ipc_msg {
  int type;
  fb_table header;
  size_t pos;       /* byte offset of the message in the input */
  size_t body;      /* byte offset of the body */
  size_t body_len;
} gfi_ipc_msg;

extern const char gfi_ipc_magic[6];

/* Decodes a verified Schema table into r->schema, r->cols and r->dicts
 * (allocated from r->a, recorded in r->meta_alloc); the custom metadata
 * goes to *r->meta_out when that is not NULL. */
gf_status gfi_ipc_decode_schema(gfi_ipc_reader *r, const fb_table *schema);

/* Parses the message framed at `pos` (within [0, limit)): metadata
 * flatbuffer verified, version and type checked, body inside the limit.
 * At end of input or an end-of-stream marker, *eos is set. */
gf_status gfi_ipc_read_message(gfi_ipc_reader *r, size_t pos, size_t limit,
                               gfi_ipc_msg *m, size_t *next, bool *eos);

/* Index in r->dicts of dictionary `id`, or -1. */
int gfi_ipc_find_dict(const gfi_ipc_reader *r, int64_t id);

/* Applies a DictionaryBatch message (new, replacement or delta) to
 * r->dicts: decodes and validates its values. Not thread-safe for the
 * same reader's dictionaries. */
gf_status gfi_ipc_read_dictionary(gfi_ipc_reader *r, const gfi_ipc_msg *m);

/* Decodes and validates (as r->validation says) the columns of a
 * RecordBatch message, with statistics. `sel` (NULL = all columns in
 * order) lists `nsel` distinct column indexes; out[k] receives column
 * sel[k]. The other columns' nodes and buffers are skipped unread.
 * Dictionaries the selected columns use must be loaded. Thread-safe for
 * concurrent calls on forks of one reader. On failure nothing is written
 * to out and nothing leaks. */
gf_status gfi_ipc_decode_batch(gfi_ipc_reader *r, const gfi_ipc_msg *m,
                               const int *sel, int nsel, gf_array **out);

/* Maps `path`, or reads it when o->input_mode is GF_INPUT_READ, into one
 * buffer; o->parallel's token and deadline bound the read. */
gf_status gfi_ipc_map_path(const char *path, const gf_ipc_read_options *o, gf_buffer **out,
                           gf_error *err);

/* Releases the shared state (schema, cols, dicts and their dictionaries,
 * the input) and the stream reader's columns. */
void gfi_ipc_reader_free(gfi_ipc_reader *r);

#endif /* GF_IO_IPC_READER_H */
