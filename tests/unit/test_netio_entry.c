/*
 * test_netio_entry.c - the frame entry codec: round trips of ARP, IPv6 and
 * GSO frames, and rejection of every malformed field with a message.
 */
#include <check.h>
#include <string.h>

#include "vsmr/netio.h"

static uint8_t arp[42], ip6[86], big[9000];

static void fill(uint8_t *f, size_t len, uint16_t type)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(i * 7 + 1);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
}

static size_t sample(uint8_t *buf, size_t cap, struct vsmr_netio_frame *in)
{
    fill(arp, sizeof arp, 0x0806);
    fill(ip6, sizeof ip6, 0x86dd);
    fill(big, sizeof big, 0x0800);
    in[0] = (struct vsmr_netio_frame){.data = arp, .len = sizeof arp,
                                      .ts_ns = 1};
    in[1] = (struct vsmr_netio_frame){.data = ip6, .len = sizeof ip6,
        .ts_ns = 2, .vnet = {.flags = 1, .csum_start = 54, .csum_offset = 6}};
    in[2] = (struct vsmr_netio_frame){.data = big, .len = sizeof big,
        .ts_ns = 3, .vnet = {.flags = 1, .gso_type = 1, .hdr_len = 66,
                             .gso_size = 1448, .csum_start = 34,
                             .csum_offset = 16}};
    size_t len;
    ck_assert_int_eq(vsmr_netio_entry_encode(in, 3, buf, cap, &len), 0);
    ck_assert_uint_eq(len, vsmr_netio_entry_size(in, 3));
    return len;
}

START_TEST(round_trip)
{
    static uint8_t buf[16384];
    struct vsmr_netio_frame in[3], out[3];
    size_t len = sample(buf, sizeof buf, in), n;
    ck_assert_int_eq(vsmr_netio_entry_decode(buf, len, out, 3, &n), 0);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(out[i].len, in[i].len);
        ck_assert_mem_eq(out[i].data, in[i].data, in[i].len);
        ck_assert_uint_eq(out[i].ts_ns, in[i].ts_ns);
        ck_assert_mem_eq(&out[i].vnet, &in[i].vnet, sizeof in[i].vnet);
    }
}
END_TEST

START_TEST(encode_checks)
{
    static uint8_t buf[16384];
    struct vsmr_netio_frame in[3];
    size_t len;
    sample(buf, sizeof buf, in);
    ck_assert_int_eq(vsmr_netio_entry_encode(in, 3, buf, 100, &len),
                     VSMR_ERANGE);
    ck_assert_int_eq(vsmr_netio_entry_encode(in, 0, buf, sizeof buf, &len),
                     VSMR_EINVAL);
    in[0].len = 10;
    ck_assert_int_eq(vsmr_netio_entry_encode(in, 1, buf, sizeof buf, &len),
                     VSMR_EINVAL);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "length out of range"));
}
END_TEST

/* Decoding buf with byte off set to val fails with VSMR_EPROTO and why. */
static void corrupt(size_t off, uint8_t val, const char *why)
{
    static uint8_t buf[16384];
    struct vsmr_netio_frame in[3], out[3];
    size_t len = sample(buf, sizeof buf, in), n = 99;
    buf[off] = val;
    ck_assert_int_eq(vsmr_netio_entry_decode(buf, len, out, 3, &n),
                     VSMR_EPROTO);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(vsmr_errmsg(), why), "\"%s\" lacks \"%s\"",
                  vsmr_errmsg(), why);
}

START_TEST(decode_rejects_malformed)
{
    corrupt(0, 0, "bad magic");
    corrupt(2, 9, "version 9");
    corrupt(3, 1, "reserved");
    corrupt(4, 0, "claims 0 frames");
    corrupt(4, 2, "trailing");              /* 2 frames claimed, 3 there */
    corrupt(8 + 0, 5, "length out of range");   /* frame 0 len 5 */
    corrupt(8 + 3, 0x10, "claimed");            /* frame 0 len huge */
    corrupt(8 + 4, 0x00, "protocol field");     /* ethertype mismatch */
    corrupt(8 + 6, 0x04, "flags");
    corrupt(8 + 7, 0x02, "GSO type");
    corrupt(8 + 7, 0x80, "ECN");
    /* frame 1 starts at 8 + 24 + 42 = 74: checksum offset past the end */
    corrupt(74 + 22, 0xff, "checksum position");
    /* frame 2 at 74 + 24 + 86 = 184: GSO header longer than the frame */
    corrupt(184 + 17, 0xff, "GSO fields");
}
END_TEST

START_TEST(decode_rejects_trailing_and_short)
{
    static uint8_t buf[16384];
    struct vsmr_netio_frame in[3], out[3];
    size_t len = sample(buf, sizeof buf, in), n;
    ck_assert_int_eq(vsmr_netio_entry_decode(buf, len + 1, out, 3, &n),
                     VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "trailing"));
    for (size_t cut = 0; cut < len; cut += 7)
        ck_assert_int_eq(vsmr_netio_entry_decode(buf, cut, out, 3, &n),
                         VSMR_EPROTO);
    ck_assert_int_eq(vsmr_netio_entry_decode(buf, len, out, 2, &n),
                     VSMR_ERANGE);
}
END_TEST

START_TEST(names_fit_and_are_stable)
{
    struct vsmr_netio_names n, m;
    ck_assert_int_eq(vsmr_netio_names("vif12.0", &n), 0);
    ck_assert_str_eq(n.in_dev, "vsi-vif12.0");
    ck_assert_str_eq(n.out_dev, "vso-vif12.0");
    ck_assert_int_eq(vsmr_netio_names("a-very-long-if1", &n), 0);
    ck_assert_uint_lt(strlen(n.in_dev), VSMR_NETIO_IFNAMSIZ);
    ck_assert_int_eq(vsmr_netio_names("a-very-long-if1", &m), 0);
    ck_assert_str_eq(n.out_dev, m.out_dev);
    ck_assert_int_eq(vsmr_netio_names("a-very-long-if2", &m), 0);
    ck_assert_str_ne(n.out_dev, m.out_dev);
    ck_assert_int_eq(vsmr_netio_names("", &n), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_netio_names("a b", &n), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_netio_names("x/y", &n), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_netio_names("0123456789abcdef", &n), VSMR_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netio_entry");
    TCase *tc = tcase_create("entry");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, encode_checks);
    tcase_add_test(tc, decode_rejects_malformed);
    tcase_add_test(tc, decode_rejects_trailing_and_short);
    tcase_add_test(tc, names_fit_and_are_stable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
