/* Status codes, error messages and the library version. */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

/* The version string of the library that is actually linked. */
const char *gf_version(void) { return GF_VERSION_STRING; }

static const struct {
  const char *name;
  const char *text;
} status_table[] = {
    [GF_OK] = {"GF_OK", "success"},
    [GF_EINVAL] = {"GF_EINVAL", "invalid argument"},
    [GF_ENOMEM] = {"GF_ENOMEM", "out of memory"},
    [GF_EIO] = {"GF_EIO", "input/output error"},
    [GF_ECANCELED] = {"GF_ECANCELED", "operation canceled"},
    [GF_ETIMEDOUT] = {"GF_ETIMEDOUT", "operation timed out"},
    [GF_ENOTSUP] = {"GF_ENOTSUP", "not supported"},
    [GF_ETYPE] = {"GF_ETYPE", "type error"},
    [GF_EPARSE] = {"GF_EPARSE", "parse error"},
    [GF_ERANGE] = {"GF_ERANGE", "value out of range"},
    [GF_EINTERNAL] = {"GF_EINTERNAL", "internal error"},
};

/* Constant name of a status; "GF_E?" for values outside the enum. */
const char *gf_status_name(gf_status s) {
  if ((unsigned)s < sizeof status_table / sizeof status_table[0]) return status_table[s].name;
  return "GF_E?";
}

/* Human description of a status; never NULL. */
const char *gf_status_string(gf_status s) {
  if ((unsigned)s < sizeof status_table / sizeof status_table[0]) return status_table[s].text;
  return "unknown status";
}

/* Resets err to success. */
void gf_error_clear(gf_error *err) {
  if (!err) return;
  err->code = GF_OK;
  err->message[0] = '\0';
}

/* Records code and message in err (when given); returns code so callers can
 * write `return gf_error_set(err, GF_EINVAL, ...)`. */
gf_status gf_error_set(gf_error *err, gf_status code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  if (n < 0) snprintf(err->message, sizeof err->message, "%s", gf_status_string(code));
  return code;
}
