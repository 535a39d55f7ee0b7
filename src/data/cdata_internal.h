/*
 * Internal helpers shared by the Arrow C Data / C Stream modules
 * (cdata_type.c, cdata_export.c, cdata_import.c, cdata_stream.c).
 */
#ifndef GF_DATA_CDATA_INTERNAL_H
#define GF_DATA_CDATA_INTERNAL_H

#include "data/array_internal.h"
#include "data/timezone.h"

/* Longest format string we produce ("tsu:+05:30", "w:2147483647"). */
#define GFI_CDATA_FORMAT_MAX 160 /* "tsu:" + a zone name of up to GFI_TZ_NAME_MAX */

/* Writes the Arrow format string of a non-dictionary type into buf.
 * Fails with GF_EINVAL for a type whose parameters are invalid. */
gf_status gfi_cdata_value_format(gf_datatype t, char *buf, size_t size,
                                 gf_error *err);

/* Parses the format string of a non-dictionary type. GF_ENOTSUP (naming the
 * format) for Arrow types GopherFrame does not hold, GF_EINVAL for
 * malformed parameters. */
gf_status gfi_cdata_parse_format(const char *format, gf_datatype *out,
                                 gf_error *err);

/* Allocates the private part of an exported schema through `a`: format and
 * name copied, `n_children` child structs (released state) and, when
 * `with_dictionary`, a dictionary struct (released state) to be filled by
 * the caller. On failure nothing is written to `out`. */
gf_status gfi_cdata_schema_init(const gf_allocator *a, const char *format,
                                const char *name, int64_t flags,
                                int64_t n_children, bool with_dictionary,
                                struct ArrowSchema *out, gf_error *err);

/* gf_type_export with the allocator for the private data; `flags` are
 * gf_cdata_export_options flags (GF_EXPORT_STRING_VIEWS: utf8/binary and
 * large_* get the view formats "vu"/"vz"). */
gf_status gfi_cdata_type_export(const gf_allocator *a, gf_datatype t,
                                const char *name, bool nullable,
                                unsigned flags, struct ArrowSchema *out,
                                gf_error *err);

/* gf_schema_export with the allocator for the private data and flags. */
gf_status gfi_cdata_schema_export(const gf_allocator *a, const gf_schema *s,
                                  unsigned flags, struct ArrowSchema *out,
                                  gf_error *err);

/* gf_frame_export_batch with the allocator for the private data and flags. */
gf_status gfi_cdata_export_batch(const gf_allocator *a, const gf_frame *f,
                                 int batch, unsigned flags,
                                 struct ArrowArray *out, gf_error *err);

/* Most bytes of one data buffer of an exported view array; 0 = INT32_MAX
 * (a test hook: lowering it splits small arrays into several windows). */
extern int64_t gfi_cdata_view_window_max;

/* True for the view formats "vu" (Utf8View) and "vz" (BinaryView), which
 * import as utf8/binary (view_internal.h). */
bool gfi_cdata_format_is_view(const char *format);

/* gf_array_import_with; `view_small_limit` as gfi_view_input.small_limit
 * (0 = INT32_MAX; tests lower it). */
gf_status gfi_cdata_import_array(struct ArrowArray *array,
                                 const struct ArrowSchema *schema,
                                 gf_import_check check,
                                 const gf_allocator *alloc,
                                 int64_t view_small_limit, gf_array **out,
                                 gf_error *err);

/* Imports one record batch (a "+s" array whose children have the types of
 * the fields of `s`) taking ownership of `batch` on success; on failure
 * `batch` is untouched. `columns` receives s->n new arrays. `arrow_schema`
 * (may be NULL) is the producer's "+s" schema, from which view columns are
 * known: they are converted, and may come out large_* (see
 * gfi_view_unify_columns). */
gf_status gfi_cdata_import_batch(struct ArrowArray *batch,
                                 const gf_schema *s,
                                 const struct ArrowSchema *arrow_schema,
                                 gf_import_check check,
                                 const gf_allocator *a, gf_array **columns,
                                 gf_error *err);

/* Status <-> errno for the stream callbacks. */
int gfi_cdata_status_to_errno(gf_status st);
gf_status gfi_cdata_errno_to_status(int e);

#endif /* GF_DATA_CDATA_INTERNAL_H */
