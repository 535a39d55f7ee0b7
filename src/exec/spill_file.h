/*
 * Temporary files for operators that spill under a memory limit
 * (docs/SPILLING.md). Not installed.
 *
 * A gfi_spill_space belongs to one operator call: the directory (the
 * options' temp_directory, else $GF_TMPDIR, else $TMPDIR, else /tmp), the
 * call's cap on temporary bytes (max_temp_bytes) and the bytes its files
 * hold now. A gfi_spill_file is an append-only file in that directory that
 * has no name from the moment it exists: opened with O_TMPFILE where the
 * file system allows, else created with mkstemp and unlinked at once. So no
 * file survives the call whatever way it ends (success, error,
 * cancellation, deadline, even a crash): closing the descriptor frees the
 * space.
 */
#ifndef GF_EXEC_SPILL_FILE_H
#define GF_EXEC_SPILL_FILE_H

#include "core/core_internal.h"

typedef struct gfi_spill_space gfi_spill_space;
typedef struct gfi_spill_file gfi_spill_file;

/* The spill space of a call with loaded options `o` (directory, cap);
 * allocated through o->allocator. The directory is not touched yet. */
gf_status gfi_spill_space_new(const gf_parallel_options *o, gfi_spill_space **out,
                              gf_error *err);
/* Frees the space; every file of it must be closed first. NULL allowed. */
void gfi_spill_space_free(gfi_spill_space *s);
/* The directory files go to (for messages). */
const char *gfi_spill_space_dir(const gfi_spill_space *s);
/* Bytes held by open files now, and the most held at once so far. */
int64_t gfi_spill_space_used(const gfi_spill_space *s);
int64_t gfi_spill_space_peak(const gfi_spill_space *s);
/* Files opened so far (for statistics and tests). */
int64_t gfi_spill_space_files(const gfi_spill_space *s);

/* Opens a new empty nameless file in the space's directory. A missing or
 * unwritable directory fails with GF_EIO naming it and the remedy. Safe to
 * call from several threads. */
gf_status gfi_spill_file_open(gfi_spill_space *s, gfi_spill_file **out, gf_error *err);
/* Appends n bytes; *offset (may be NULL) receives where they start. A full
 * disk (ENOSPC, EDQUOT, EFBIG) or crossing max_temp_bytes fails with GF_EIO
 * naming the directory and what to do; the file keeps what it held. One
 * file must not be appended to from two threads at once. */
gf_status gfi_spill_file_append(gfi_spill_file *f, const void *p, size_t n, int64_t *offset,
                                gf_error *err);
/* Reads exactly n bytes at `offset` (written before) into p. Any thread. */
gf_status gfi_spill_file_read(gfi_spill_file *f, int64_t offset, void *p, size_t n,
                              gf_error *err);
/* Bytes written to the file. */
int64_t gfi_spill_file_size(const gfi_spill_file *f);
/* Closes the file (its space is freed by the system) and returns its bytes
 * to the space's count. NULL allowed. */
void gfi_spill_file_close(gfi_spill_file *f);

/* Test hooks (process-wide; tests only). After `writes` more successful
 * appends, every append fails as if write(2) had failed with `errnum`
 * (ENOSPC simulates a full disk); writes < 0 turns the fault off. Opening
 * fails likewise with `open_errnum` when not 0. */
void gfi_spill_test_fault(int64_t writes, int errnum, int open_errnum);
/* Spill files opened by the process so far (tests check that a call
 * spilled). */
int64_t gfi_spill_files_opened(void);
/* Makes gfi_spill_file_open skip O_TMPFILE (the mkstemp + unlink path). */
void gfi_spill_test_no_tmpfile(bool on);

#endif /* GF_EXEC_SPILL_FILE_H */
