/*
 * test_netio_bridge.c - the pure parts of the failover's bridge takeover:
 * MAC text (strict parse, format, unicast), the RARP announcement byte by
 * byte, and the takeover's argument checks (each refused with a message
 * before any system call). The takeover itself runs in real namespaces:
 * tests/integration/test_netio_takeover.sh.
 */
#include <check.h>
#include <string.h>

#include "common/mac.h"
#include "netio/netio_internal.h"
#include "vsmr/netio.h"

static const uint8_t GUEST[6] = {0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef};

START_TEST(mac_text)
{
    uint8_t m[6];
    char t[VSMR_MAC_TEXT];
    ck_assert_int_eq(vsmr_mac_parse("00:16:3E:ab:CD:ef", m), 0);
    ck_assert_mem_eq(m, GUEST, 6);
    vsmr_mac_format(m, t);
    ck_assert_str_eq(t, "00:16:3e:ab:cd:ef");
    static const char *const bad[] = {
        "", "00:16:3e:ab:cd", "00:16:3e:ab:cd:ef:", "00:16:3e:ab:cd:ef0",
        "00-16-3e-ab-cd-ef", "0:16:3e:ab:cd:ef", "00:16:3e:ab:cd:eg",
        " 00:16:3e:ab:cd:ef", "00:16:3e:ab:cd:e", "00163eabcdef",
    };
    memcpy(m, GUEST, 6);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(vsmr_mac_parse(bad[i], m) == VSMR_EINVAL, "'%s'",
                      bad[i]);
        ck_assert_msg(strstr(vsmr_errmsg(), "is not a MAC address"), "%s",
                      vsmr_errmsg());
        ck_assert_mem_eq(m, GUEST, 6);      /* untouched on failure */
    }
    ck_assert_int_eq(vsmr_mac_parse(NULL, m), VSMR_EINVAL);
    ck_assert(vsmr_mac_is_unicast(GUEST));
    static const uint8_t zero[6], bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xff},
                         mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    ck_assert(!vsmr_mac_is_unicast(zero));
    ck_assert(!vsmr_mac_is_unicast(bcast));
    ck_assert(!vsmr_mac_is_unicast(mcast));
}
END_TEST

/* RFC 903 over Ethernet, as QEMU's announcement: every byte. */
START_TEST(rarp_frame_bytes)
{
    uint8_t f[NETIO_RARP_LEN], want[NETIO_RARP_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,          /* destination */
        0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef,          /* source */
        0x80, 0x35,                                  /* RARP */
        0x00, 0x01, 0x08, 0x00, 6, 4,                /* Ethernet, IPv4 */
        0x00, 0x03,                                  /* request reverse */
        0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef, 0, 0, 0, 0,
        0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef, 0, 0, 0, 0,
    };                                               /* zero padding */
    memset(f, 0xaa, sizeof f);
    netio_rarp_frame(GUEST, f);
    ck_assert_mem_eq(f, want, sizeof want);
    ck_assert_uint_eq(NETIO_RARP_LEN, 60);
}
END_TEST

static void refused(const char *vif, const char *bridge, const uint8_t *mac,
                    const char *says)
{
    int rc = vsmr_netio_bridge_takeover(vif, bridge, mac);
    ck_assert_msg(rc == VSMR_EINVAL, "%s/%s: rc %d", vif, bridge, rc);
    ck_assert_msg(strstr(vsmr_errmsg(), says), "%s/%s: '%s' lacks '%s'",
                  vif, bridge, vsmr_errmsg(), says);
}

START_TEST(takeover_checks_arguments)
{
    static const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
    refused(NULL, "br0", GUEST, "(null)");
    refused("vif1.0", NULL, GUEST, "(null)");
    refused("vif1/0", "br0", GUEST, "not a network interface name");
    refused("vif1.0", "0123456789abcdef", GUEST, "0123456789abcdef");
    refused("vif1.0", "br 0", GUEST, "not a network interface name");
    refused("br0", "br0", GUEST, "cannot be a port of itself");
    refused("vif1.0", "br0", NULL, "unicast");
    refused("vif1.0", "br0", mcast, "unicast");
}
END_TEST

/* Reading links needs no privilege: an absent bridge is step 1's error,
 * and the start-time check says what is wrong. */
START_TEST(takeover_names_the_step)
{
    int rc = vsmr_netio_bridge_takeover("vsmr-novif0", "vsmr-nobr0", GUEST);
    ck_assert_int_eq(rc, VSMR_ENOENT);
    ck_assert_msg(strstr(vsmr_errmsg(), "step 1 (vsmr-novif0 joins "
                         "vsmr-nobr0): there is no bridge vsmr-nobr0"),
                  "%s", vsmr_errmsg());
    ck_assert_int_eq(vsmr_netio_bridge_check("vsmr-nobr0"), VSMR_ENOENT);
    ck_assert_int_eq(vsmr_netio_bridge_check("lo"), VSMR_EINVAL);
    ck_assert_msg(strstr(vsmr_errmsg(), "lo is not a bridge (it is a device "
                         "of no particular kind)"), "%s", vsmr_errmsg());
    ck_assert_int_eq(vsmr_netio_bridge_check("a/b"), VSMR_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netio_bridge");
    TCase *tc = tcase_create("bridge");
    tcase_add_test(tc, mac_text);
    tcase_add_test(tc, rarp_frame_bytes);
    tcase_add_test(tc, takeover_checks_arguments);
    tcase_add_test(tc, takeover_names_the_step);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
