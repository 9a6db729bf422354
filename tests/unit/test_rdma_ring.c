/*
 * test_rdma_ring.c - the RDMA ring record codec: records round-trip and
 * wrap; a record whose tail mark is not yet written (torn) is never
 * consumed; stale bytes, wrong-sequence and forged records are ignored or
 * rejected; malformed headers are rejected; and a tampered frame inside a
 * complete record fails authentication. Also transport selection on a host
 * without RDMA: auto falls back to tcp, explicit rdma fails plainly.
 */
#include <check.h>
#include <string.h>

#include <sodium.h>

#include "transport/frame.h"
#include "transport/rdma_ring.h"
#include "transport/transport.h"

#define RING 8192u

static const struct vsmr_ring_marks marks = {0x1122334455667788ull,
                                             0x99aabbccddeeff00ull};
static uint8_t ring[RING];

/* Writes a DATA record at pos holding a frame of body_len bytes sealed by
 * s; returns its length. */
static size_t put_rec(struct vsmr_session *s, size_t pos, uint64_t seq,
                      size_t body_len, uint8_t fill)
{
    uint8_t *frame = ring + pos + VSMR_RING_HDR_LEN;
    memset(frame + VSMR_FRAME_HDR_LEN, fill, body_len);
    long flen = vsmr_frame_seal(s, frame, body_len);
    ck_assert_int_gt(flen, 0);
    vsmr_ring_put_data(ring + pos, (size_t)flen, seq, &marks);
    return vsmr_ring_data_len((size_t)flen);
}

static void sessions(struct vsmr_session *tx, struct vsmr_session *rx)
{
    static const uint8_t key[32] = {5};
    struct vsmr_hello d, a;
    vsmr_hello_init(&d, 1, 1, false);
    vsmr_hello_init(&a, 1, 2, false);
    ck_assert_int_eq(vsmr_session_derive(tx, key, &d, &a, true), 0);
    ck_assert_int_eq(vsmr_session_derive(rx, key, &d, &a, false), 0);
}

START_TEST(roundtrip_and_sequence)
{
    struct vsmr_session tx, rx;
    sessions(&tx, &rx);
    memset(ring, 0, sizeof ring);
    struct vsmr_ring_view v;
    /* zeroed memory is not a record */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                     VSMR_EAGAIN);
    size_t l0 = put_rec(&tx, 0, 0, 100, 0xaa);
    size_t l1 = put_rec(&tx, l0, 1, 7, 0xbb);
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v), 0);
    ck_assert_int_eq(v.kind, VSMR_RING_DATA);
    ck_assert_uint_eq(v.rec_len, l0);
    ck_assert_uint_eq(v.advance, l0);
    uint8_t *body;
    size_t blen;
    ck_assert_int_eq(vsmr_frame_open(&rx, v.frame, v.frame_len, &body, &blen),
                     0);
    ck_assert_uint_eq(blen, 100);
    ck_assert_uint_eq(body[99], 0xaa);
    /* the same place asked for another sequence: not there */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 5, &marks, 4096, &v),
                     VSMR_EAGAIN);
    ck_assert_int_eq(vsmr_ring_check(ring, RING, l0, 1, &marks, 4096, &v), 0);
    ck_assert_uint_eq(v.rec_len, l1);
    /* past the last record: stale/zero memory */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, l0 + l1, 2, &marks, 4096,
                                     &v), VSMR_EAGAIN);
}
END_TEST

START_TEST(torn_record_never_consumed)
{
    struct vsmr_session tx, rx;
    sessions(&tx, &rx);
    memset(ring, 0, sizeof ring);
    size_t len = put_rec(&tx, 0, 0, 500, 0x11);
    uint8_t saved[RING];
    memcpy(saved, ring, len);
    struct vsmr_ring_view v;
    /* every prefix of the record, written in order, is "not yet" */
    for (size_t cut = 0; cut < len; cut += 8) {
        memset(ring, 0, sizeof ring);
        memcpy(ring, saved, cut);
        ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                         VSMR_EAGAIN);
    }
    /* header and tail mark present but the body stale: the frame's MAC
     * fails, so the bytes are never delivered */
    memcpy(ring, saved, len);
    memset(ring + 40, 0, 64);
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v), 0);
    uint8_t *body;
    size_t blen;
    ck_assert_int_eq(vsmr_frame_open(&rx, v.frame, v.frame_len, &body, &blen),
                     VSMR_EAUTH);
}
END_TEST

START_TEST(malformed_headers_rejected)
{
    struct vsmr_session tx, rx;
    sessions(&tx, &rx);
    struct vsmr_ring_view v;
    uint8_t good[RING];
    memset(ring, 0, sizeof ring);
    size_t len = put_rec(&tx, 0, 0, 64, 1);
    memcpy(good, ring, RING);
    /* rec_len odd, too small, past the ring, beyond the frame limit */
    uint32_t bad_lens[] = {len + 1, 8, RING + 8, 0xfffffff8u};
    for (unsigned i = 0; i < 4; i++) {
        memcpy(ring, good, RING);
        ring[0] = (uint8_t)(bad_lens[i] >> 24);
        ring[1] = (uint8_t)(bad_lens[i] >> 16);
        ring[2] = (uint8_t)(bad_lens[i] >> 8);
        ring[3] = (uint8_t)bad_lens[i];
        ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                         VSMR_EPROTO);
    }
    memcpy(ring, good, RING);
    ring[5] = 9;   /* unknown kind */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                     VSMR_EPROTO);
    memcpy(ring, good, RING);
    ring[7] = 1;   /* reserved bits */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                     VSMR_EPROTO);
    memcpy(ring, good, RING);
    ring[VSMR_RING_HDR_LEN + 3] ^= 8;   /* frame length disagrees */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                     VSMR_EPROTO);
    /* a frame larger than the receiver allows */
    memcpy(ring, good, RING);
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 32, &v),
                     VSMR_EPROTO);
    /* a head that is not a record place is a caller bug */
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 4, 0, &marks, 4096, &v),
                     VSMR_EINVAL);
}
END_TEST

START_TEST(forged_marks_without_salt_ignored)
{
    /* Bytes laid out like a record but marked with another connection's
     * salts (a stale registration, or guest data that looks like a record)
     * are not a record. */
    struct vsmr_session tx, rx;
    sessions(&tx, &rx);
    memset(ring, 0, sizeof ring);
    struct vsmr_ring_marks other = {1, 2};
    uint8_t *frame = ring + VSMR_RING_HDR_LEN;
    long flen = vsmr_frame_seal(&tx, frame, 10);
    vsmr_ring_put_data(ring, (size_t)flen, 0, &other);
    struct vsmr_ring_view v;
    ck_assert_int_eq(vsmr_ring_check(ring, RING, 0, 0, &marks, 4096, &v),
                     VSMR_EAGAIN);
}
END_TEST

START_TEST(wrap_and_skip)
{
    struct vsmr_session tx, rx;
    sessions(&tx, &rx);
    memset(ring, 0, sizeof ring);
    size_t pos = RING - 40;
    vsmr_ring_put_wrap(ring + pos, 3, &marks);
    struct vsmr_ring_view v;
    ck_assert_int_eq(vsmr_ring_check(ring, RING, pos, 3, &marks, 4096, &v),
                     0);
    ck_assert_int_eq(v.kind, VSMR_RING_WRAP);
    ck_assert_uint_eq(v.advance, 40);
    ring[3] = 32;   /* a wrap record must be exactly 24 bytes */
    ring[pos + 3] = 32;
    ck_assert_int_eq(vsmr_ring_check(ring, RING, pos, 3, &marks, 4096, &v),
                     VSMR_EPROTO);
    ck_assert_uint_eq(vsmr_ring_place(RING, RING - 16), 0);
    ck_assert_uint_eq(vsmr_ring_place(RING, RING - 24), RING - 24);
    ck_assert_uint_eq(vsmr_ring_place(RING, 64), 64);
}
END_TEST

START_TEST(pieces)
{
    uint8_t body[32] = {0, 0, 0, 3, 'a', 'b', 'c', 0x80, 0, 0, 2, 'x', 'y'};
    size_t off = 0, n;
    const uint8_t *d;
    bool more;
    ck_assert_int_eq(vsmr_ring_piece_next(body, 13, &off, &d, &n, &more), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert(!more);
    ck_assert_int_eq(vsmr_ring_piece_next(body, 13, &off, &d, &n, &more), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(more);
    ck_assert_int_eq(vsmr_ring_piece_next(body, 13, &off, &d, &n, &more),
                     VSMR_ENOENT);
    off = 0;   /* a length past the body */
    ck_assert_int_eq(vsmr_ring_piece_next(body, 6, &off, &d, &n, &more),
                     VSMR_EPROTO);
    off = 0;   /* a header cut short */
    ck_assert_int_eq(vsmr_ring_piece_next(body, 2, &off, &d, &n, &more),
                     VSMR_EPROTO);
}
END_TEST

START_TEST(selection_without_device)
{
    if (vsmr_rdma_device_count() > 0)
        return;   /* this host has RDMA: covered by make lab-rdma instead */
    const struct vsmr_transport_ops *ops = NULL;
    char why[160];
    ck_assert_int_eq(vsmr_transport_select("auto", &ops, why, sizeof why), 0);
    ck_assert_ptr_eq(ops, &vsmr_transport_tcp_ops);
    ck_assert_ptr_nonnull(strstr(why, "transport=tcp"));
    ck_assert_ptr_nonnull(strstr(why, "no RDMA device"));
    ck_assert_int_eq(vsmr_transport_select("rdma", &ops, why, sizeof why),
                     VSMR_ENOENT);
    ck_assert_str_eq(vsmr_errmsg(), "transport rdma: no RDMA device found "
                     "(ibv_get_device_list returned none); use transport = "
                     "tcp or auto");
    ck_assert_int_eq(vsmr_transport_select("tcp", &ops, why, sizeof why), 0);
    ck_assert_ptr_eq(ops, &vsmr_transport_tcp_ops);
    ck_assert_int_eq(vsmr_transport_select("carrier-pigeon", &ops, why,
                                           sizeof why), VSMR_ENOENT);
    /* opening rdma directly fails the same way */
    struct vsmr_transport_config c = {.self_id = 1};
    struct vsmr_transport_handler h = {0};
    vsmr_transport *t = NULL;
    ck_assert_int_eq(vsmr_transport_rdma_ops.open(&c, &h, &t), VSMR_ENOENT);
    ck_assert_ptr_null(t);
}
END_TEST

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    Suite *s = suite_create("rdma_ring");
    TCase *tc = tcase_create("rdma_ring");
    tcase_add_test(tc, roundtrip_and_sequence);
    tcase_add_test(tc, torn_record_never_consumed);
    tcase_add_test(tc, malformed_headers_rejected);
    tcase_add_test(tc, forged_marks_without_salt_ignored);
    tcase_add_test(tc, wrap_and_skip);
    tcase_add_test(tc, pieces);
    tcase_add_test(tc, selection_without_device);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
