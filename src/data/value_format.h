/*
 * Internal value formatting shared by gf_array_format_value, the frame
 * printer and the text writers (not installed).
 */
#ifndef GF_DATA_VALUE_FORMAT_H
#define GF_DATA_VALUE_FORMAT_H

#include "data/array_internal.h"

/* How a value is written. */
typedef enum gfi_value_style {
  /* Machine-readable, ASCII: ISO 8601 timestamps ("2024-01-02T03:04:05.250Z"),
   * durations as "<count><unit>" ("1500ms"), binary as lowercase hex. */
  GFI_STYLE_ISO = 0,
  /* For people (the table printer, like Polars): timestamps with a space and
   * " UTC"/" +05:30", durations split into "1s 500ms", binary as hex. */
  GFI_STYLE_DISPLAY = 1
} gfi_value_style;

/* Formats value i of `a` (nulls as "null"; strings raw, not quoted) into buf
 * (at most buf_size bytes including the NUL; buf may be NULL when buf_size
 * is 0). Returns the length of the full text, like snprintf. Locale
 * independent. */
int gfi_format_value(const gf_array *a, int64_t i, gfi_value_style style,
                     char *buf, size_t buf_size);

#endif /* GF_DATA_VALUE_FORMAT_H */
