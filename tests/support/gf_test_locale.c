#include "gf_test_locale.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool comma_active(void) {
  char buf[16];
  snprintf(buf, sizeof buf, "%.1f", 1.5);
  return strcmp(buf, "1,5") == 0;
}

static char dir[64];

/* Removes the private locale directory when the test process exits. */
static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "gft_set_comma_locale: could not remove %s\n", dir);
}

bool gft_set_comma_locale(void) {
  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") && comma_active()) return true;
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/gf-test-locale-%ld", (long)getpid());
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && localedef -i de_DE -f UTF-8 -c %s/de_DE.UTF-8 >/dev/null 2>&1",
             dir, dir);
    atexit(remove_dir);
    if (system(cmd) != 0) fprintf(stderr, "gft_set_comma_locale: localedef failed\n");
  }
  setenv("LOCPATH", dir, 1);
  return setlocale(LC_NUMERIC, "de_DE.UTF-8") && comma_active();
}

void gft_reset_locale(void) { setlocale(LC_NUMERIC, "C"); }
