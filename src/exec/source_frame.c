/*
 * The in-memory frame source (exec/stream_internal.h): zero-copy slices
 * of a frame, in row order, each with its absolute row offset.
 */
#include <string.h>

#include "data/array_internal.h"
#include "exec/stream_internal.h"

typedef struct framesrc {
  gf_frame *f;
  int64_t rows; /* per slice; < 1: the frame's batches */
  int64_t pos;
  int batch;
} framesrc;

static void frame_free(gfi_source *s) {
  if (!s) return;
  framesrc *fs = s->state;
  if (fs) {
    gf_frame_release(fs->f);
    gfi_mfree(NULL, fs, sizeof *fs);
  }
  gf_schema_release(s->schema);
  gfi_mfree(NULL, s, sizeof *s);
}

/* The next slice: `rows` rows, or the next record batch. */
static gf_status frame_next(gfi_source *s, gf_frame **out, int64_t *row0, gf_error *err) {
  framesrc *fs = s->state;
  *out = NULL;
  *row0 = fs->pos;
  int64_t total = gf_frame_num_rows(fs->f);
  /* Empty record batches are skipped: they carry no rows. */
  while (fs->rows < 1 && fs->batch < gf_frame_num_batches(fs->f) &&
         gf_frame_batch_rows(fs->f, fs->batch) == 0)
    fs->batch++;
  if (fs->pos >= total) return GF_OK;
  int64_t n = fs->rows > 0 ? fs->rows : gf_frame_batch_rows(fs->f, fs->batch++);
  if (n > total - fs->pos) n = total - fs->pos;
  GF_RETURN_NOT_OK(gf_frame_slice(fs->f, fs->pos, n, out, err));
  fs->pos += n;
  return GF_OK;
}

gf_status gfi_source_frame(const gf_frame *f, int64_t rows, gfi_source **out, gf_error *err) {
  gfi_source *s = gfi_calloc(NULL, sizeof *s);
  framesrc *fs = gfi_calloc(NULL, sizeof *fs);
  if (!s || !fs) {
    if (s) gfi_mfree(NULL, s, sizeof *s);
    if (fs) gfi_mfree(NULL, fs, sizeof *fs);
    return GF_OOM(err, "a frame source");
  }
  fs->f = gf_frame_retain((gf_frame *)f);
  fs->rows = rows;
  s->state = fs;
  s->schema = gf_schema_retain(gf_frame_schema(f));
  s->next = frame_next;
  s->free = frame_free;
  *out = s;
  return GF_OK;
}
