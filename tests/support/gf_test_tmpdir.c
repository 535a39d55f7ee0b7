/* Test helper: private temporary directories (gf_test_tmpdir.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "gf_test_tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gft_tmpdir_enter(char *dir, size_t cap, const char *tag) {
  const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int n = snprintf(dir, cap, "%s/gf-%s-XXXXXX", base, tag);
  if (n < 0 || (size_t)n >= cap || !mkdtemp(dir)) return -1;
  return setenv("GF_TMPDIR", dir, 1) == 0 ? 0 : -1;
}

int gft_dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

int gft_tmpdir_leave(const char *dir) {
  int left = gft_dir_entries(dir);
  rmdir(dir);
  unsetenv("GF_TMPDIR");
  if (left != 0) fprintf(stderr, "%d files left in %s\n", left, dir);
  return left == 0 ? 0 : -1;
}
