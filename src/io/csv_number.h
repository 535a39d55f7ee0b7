/*
 * Fast number parsing for the CSV reader (not installed): integers eight
 * digits at a time (SWAR) with exact overflow detection, and floats by
 * Clinger's exact path, then an Eisel-Lemire step (the 64-bit mantissa times
 * a 128-bit power of five, csv_pow5.c) that decides the correctly rounded
 * double whenever its truncation error cannot matter, and strtod in the C
 * locale (the scalar parser of csv_infer.c) when it can.
 *
 * gfi_csv_parse_int64/uint64/double (csv_internal.h) are these; the scalar
 * forms stay as the reference the tests compare with and as the slow path.
 * Syntax is the reader's: [+-]?digits for integers (no spaces, no
 * separators), decimal floats with optional fraction and exponent, ".5" and
 * "5." accepted, "1e" and "." refused, inf/infinity/nan in any case; a
 * finite literal that overflows is not a float.
 */
#ifndef GF_IO_CSV_NUMBER_H
#define GF_IO_CSV_NUMBER_H

#include "io/csv_internal.h"

/* 5^q ~= (hi:lo) * 2^e, hi's top bit set, error under one unit of lo. */
typedef struct gfi_csv_pow5 {
  uint64_t hi, lo;
  int32_t e;
} gfi_csv_pow5;

#define GFI_CSV_POW5_QMIN (-342)
#define GFI_CSV_POW5_QMAX 308
extern const gfi_csv_pow5 gfi_csv_pow5_table[GFI_CSV_POW5_QMAX - GFI_CSV_POW5_QMIN + 1];

/* w * 10^q for w != 0 as the correctly rounded double, when the 128-bit
 * product decides it and the result is a normal finite double; false
 * otherwise (the caller takes the slow path). */
bool gfi_csv_eisel_lemire(uint64_t w, int64_t q, double *out);

/* The scalar parsers of csv_infer.c (reference and slow path). */
int gfi_csv_scalar_parse_int64(const char *p, int64_t n, int64_t *out);
int gfi_csv_scalar_parse_uint64(const char *p, int64_t n, uint64_t *out);
bool gfi_csv_scalar_parse_double(const char *p, int64_t n, double *out);

#endif /* GF_IO_CSV_NUMBER_H */
