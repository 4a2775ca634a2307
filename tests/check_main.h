/* tests/check_main.h: the one main() every unit test binary shares
 * (check_main.c). Each tests/test_<component>.c defines test_suite(): its
 * Check suite, as many test cases as it likes; main runs it (each test
 * forked, as Check does by default) and exits non-zero if any failed.
 * CK_RUN_CASE, CK_FORK and Check's other variables work as documented. */
#ifndef EDGELAB_CHECK_MAIN_H
#define EDGELAB_CHECK_MAIN_H

#include <check.h>

Suite *test_suite(void);

#endif
