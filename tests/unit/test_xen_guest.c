/*
 * test_xen_guest.c - the Xen backend's errors on a host without Xen (or
 * for domains that cannot exist): a clear code and a message naming the
 * cause, never a crash. The real-Xen checks run in the lab (make lab-check).
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"
#include "vsmr/guest.h"

static bool have_xen(void)
{
    return access("/dev/xen/privcmd", F_OK) == 0;
}

START_TEST(no_xen_is_a_clear_error)
{
    if (have_xen())
        return;  /* covered by the lab's bad-input checks instead */
    vsmr_guest *g = (vsmr_guest *)0x1;
    int rc = vsmr_guest_open("xen", "1", &g);
    ck_assert_msg(rc == VSMR_ENOTSUP || rc == VSMR_ENOENT, "rc=%s",
                  vsmr_err_name(rc));
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(vsmr_errmsg(), "not running Xen"), "msg: %s",
                  vsmr_errmsg());
    rc = vsmr_guest_open("xen", "guest1", &g);
    ck_assert_msg(rc == VSMR_ENOTSUP || rc == VSMR_ENOENT, "rc=%s",
                  vsmr_err_name(rc));
    ck_assert_msg(strstr(vsmr_errmsg(), "not running Xen"), "msg: %s",
                  vsmr_errmsg());
}
END_TEST

START_TEST(bad_specs_are_rejected_before_touching_xen)
{
    vsmr_guest *g = NULL;
    const char *bad[] = {"", "99999999", "32752"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = vsmr_guest_open("xen", bad[i], &g);
        ck_assert_msg(rc == VSMR_EINVAL, "'%s': rc=%s", bad[i],
                      vsmr_err_name(rc));
        ck_assert_ptr_null(g);
        ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "domain"));
    }
}
END_TEST

START_TEST(null_handle_operations_fail_cleanly)
{
    bool b;
    ck_assert_int_eq(vsmr_guest_pause(NULL), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_guest_unpause(NULL), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_guest_is_idle(NULL, &b), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_guest_suspend(NULL), VSMR_EINVAL);
    uint8_t mac[6];
    ck_assert_int_eq(vsmr_guest_vif_mac(NULL, "vif1.0", mac), VSMR_EINVAL);
    vsmr_guest_close(NULL);
}
END_TEST

/* The pruned xenstore walk (a backup's end) reaches every place libxl
 * keeps domain 7's nodes and none of another domain's. */
START_TEST(pruned_walk_covers_a_domains_nodes)
{
    struct xen_xs_owner o = {.dom = "7", .vm = "0a1b-uuid"};
    const char *reached[] = {
        "/local", "/local/domain", "/local/domain/7",
        "/local/domain/7/device/vif/0/state", "/local/domain/7/control",
        "/local/domain/0/backend", "/local/domain/0/backend/vif/7/0/state",
        "/local/domain/3/backend/vbd/7/51712/params",     /* driver domain */
        "/local/domain/0/device-model/7/state", "/libxl/7/dm-version",
        "/vm/0a1b-uuid/name", "/tool/xenstored", "/",
    };
    const char *pruned[] = {
        "/local/domain/0/name", "/local/domain/3/device/vif/0",
        "/local/domain/0/backend/vif/3/0/state", "/local/domain/77/name",
        "/local/domain/0/backend/vif/70/0", "/libxl/3/type",
        "/vm/other-uuid/name", "/local/domain/0/device-model/3",
    };
    for (size_t i = 0; i < sizeof reached / sizeof *reached; i++)
        ck_assert_msg(xen_xs_pruned_reaches(&o, reached[i]), "%s",
                      reached[i]);
    for (size_t i = 0; i < sizeof pruned / sizeof *pruned; i++)
        ck_assert_msg(!xen_xs_pruned_reaches(&o, pruned[i]), "%s",
                      pruned[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xen_guest");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, no_xen_is_a_clear_error);
    tcase_add_test(tc, bad_specs_are_rejected_before_touching_xen);
    tcase_add_test(tc, null_handle_operations_fail_cleanly);
    tcase_add_test(tc, pruned_walk_covers_a_domains_nodes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
