/* Test helper: switch LC_NUMERIC to a locale whose decimal point is a comma,
 * to prove number formatting/parsing ignore the C library's locale. */
#ifndef GF_TEST_LOCALE_H
#define GF_TEST_LOCALE_H
#include <stdbool.h>

/* Sets LC_NUMERIC to de_DE.UTF-8. When that locale is not installed, compiles
 * it with localedef into a private temporary directory (LOCPATH). Returns
 * true when printf("%.1f", 1.5) now prints "1,5". */
bool gft_set_comma_locale(void);
/* Back to the "C" locale for LC_NUMERIC. */
void gft_reset_locale(void);
#endif
