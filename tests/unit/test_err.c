/*
 * test_err.c - error codes have names and texts; messages are kept per
 * thread and name the cause.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/err.h"

START_TEST(codes_have_names_and_texts)
{
    ck_assert_str_eq(vsmr_err_name(VSMR_EINVAL), "VSMR_EINVAL");
    ck_assert_str_eq(vsmr_strerror(VSMR_ENOENT), "not found");
    ck_assert_str_eq(vsmr_err_name(12345), "VSMR_E?");
}
END_TEST

START_TEST(fail_records_message)
{
    ck_assert_int_eq(vsmr_fail(VSMR_ERANGE, "page %d past end", 7),
                     VSMR_ERANGE);
    ck_assert_str_eq(vsmr_errmsg(), "page 7 past end");
    errno = ENOENT;
    ck_assert_int_eq(vsmr_fail_errno(VSMR_ESYS, "open %s", "/x"), VSMR_ESYS);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "open /x: No such file"));
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("err");
    tcase_add_test(tc, codes_have_names_and_texts);
    tcase_add_test(tc, fail_records_message);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
