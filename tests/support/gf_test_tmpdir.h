/* Test helper: a private temporary directory for tests of code that makes
 * temporary files (spilling), so that a test can check that no file
 * survives it. */
#ifndef GF_TEST_TMPDIR_H
#define GF_TEST_TMPDIR_H

#include <stddef.h>

/* Creates a fresh directory "<TMPDIR or /tmp>/gf-<tag>-XXXXXX", writes its
 * path to dir[0..cap) and points GF_TMPDIR at it. 0 on success, -1 when it
 * cannot be made. */
int gft_tmpdir_enter(char *dir, size_t cap, const char *tag);

/* Number of entries of `dir` other than . and .. (-1 when it is gone). */
int gft_dir_entries(const char *dir);

/* Removes `dir` (expected empty) and unsets GF_TMPDIR. Returns 0 when no
 * file was left in it; otherwise prints how many to stderr and returns -1
 * (a cmocka teardown's failure). */
int gft_tmpdir_leave(const char *dir);

#endif /* GF_TEST_TMPDIR_H */
