/*
 * weir_test_tmp.h: a scratch directory for a unit test (each test is its
 * own executable, so these are header-only static functions).  Include
 * after <cmocka.h>.
 */
#ifndef WEIR_TEST_TMP_H
#define WEIR_TEST_TMP_H

#include <stdio.h>
#include <stdlib.h>

/* Creates /tmp/weir-test-<name>-XXXXXX into dir (dirsz bytes). */
static inline void
weir_test_mkdtemp(char *dir, size_t dirsz, const char *name)
{
    snprintf(dir, dirsz, "/tmp/weir-test-%s-XXXXXX", name);
    assert_non_null(mkdtemp(dir));
}

/* Removes dir and everything below it: 0, or -1 (a cmocka teardown's answer). */
static inline int
weir_test_rmtree(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
