/* Test helper: arrays whose null slots hold garbage (issue 14, item 17).
 *
 * Arrow lets any bytes sit under a null, and such arrays reach the library
 * zero-copy through the C Data interface and IPC. The builders zero null
 * slots, so arrays made by gft_random_array never exercise a kernel that
 * forgets the validity bitmap. These helpers take a clean array and make a
 * twin with the same logical values that
 *  - is a real zero-copy import (gf_array_import of an ArrowArray whose
 *    buffers this helper owns and frees in the release callback);
 *  - starts at a non-zero ArrowArray.offset: `lead` leading slots of random
 *    validity and random values precede the visible ones;
 *  - holds random bytes under every null: fixed-width types get random value
 *    bytes (bool: random bits), strings and binaries get non-empty random
 *    bytes with offsets that still form a valid layout, dictionaries get
 *    random int32 codes (almost always outside the dictionary, which is the
 *    clean array's, exported);
 *  - always carries a validity bitmap, whose padding bits are random, and
 *    random bytes in buffer padding; null_count is -1 (unknown) or exact.
 * Null columns (no buffers) are returned as they are (retained).
 */
#ifndef GF_TEST_GARBAGE_H
#define GF_TEST_GARBAGE_H

#include <stdint.h>

#include "gopherframe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The garbage twin of `clean`, `lead` hidden leading slots, bytes from
 * `seed`. Fails the test (cmocka) when the import refuses it. */
gf_array *gft_garbage_array(const gf_array *clean, int64_t lead, uint64_t seed);

/* The garbage twin of every column of every batch of `clean` (same schema
 * and batch boundaries; each array with its own lead in [0, 70] and seed). */
gf_frame *gft_garbage_frame(const gf_frame *clean, uint64_t seed);

/* How many garbage arrays gft_garbage_array made since the process started
 * (tests assert it is not 0, so a helper that silently did nothing fails). */
int64_t gft_garbage_arrays_made(void);

#ifdef __cplusplus
}
#endif
#endif /* GF_TEST_GARBAGE_H */
