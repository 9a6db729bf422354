/*
 * test_wire.c - the wire codec: every log message round-trips; truncated,
 * padded and corrupted frames are refused with VSMR_EPROTO and a message
 * naming the field; encoders respect their buffer and the limits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_bytes.h"
#include "wire/wire_sync.h"
#include "vsmr/vsmr.h"

static struct vsmr_entry ents[VSMR_LOG_MAX_MSG_ENTRIES];
static uint8_t buf[1 << 16];

static const struct vsmr_entry sample_entries[4] = {
    {.index = 11, .term = 4, .type = VSMR_ENTRY_NOOP},
    {.index = 12, .term = 5, .type = VSMR_ENTRY_NORMAL,
     .data = (const uint8_t *)"guest packet", .len = 12},
    {.index = 13, .term = 5, .type = VSMR_ENTRY_SYNC, .aux = 77},
    {.index = 14, .term = 5, .type = VSMR_ENTRY_PROTECT,
     .aux = UINT64_C(0xfedcba9876543210)},
};

static struct vsmr_msg sample(uint8_t type)
{
    struct vsmr_msg m = {.type = type, .from = 1, .to = 3, .term = 5,
                         .index = 10, .log_term = 4};
    switch (type) {
    case VSMR_MSG_APPEND:
        m.commit = 9;
        m.entries = sample_entries;
        m.n_entries = 4;
        break;
    case VSMR_MSG_APPEND_RESP:
        m.flags = VSMR_MSG_F_REJECT;
        m.hint = 8;
        break;
    case VSMR_MSG_VOTE:
        m.flags = VSMR_MSG_F_TRANSFER;
        break;
    case VSMR_MSG_VOTE_RESP:
    case VSMR_MSG_PREVOTE_RESP:
    case VSMR_MSG_TIMEOUT_NOW:
        m.index = m.log_term = 0;
        break;
    }
    return m;
}

static size_t encode(const struct vsmr_msg *m)
{
    size_t len = 0;
    ck_assert_int_eq(vsmr_wire_log_encode(m, buf, sizeof buf, &len), 0);
    ck_assert_uint_eq(len, vsmr_wire_log_size(m));
    return len;
}

static int decode(size_t len, struct vsmr_msg *m)
{
    return vsmr_wire_log_decode(buf, len, m, ents, VSMR_LOG_MAX_MSG_ENTRIES);
}

START_TEST(every_log_message_round_trips)
{
    for (uint8_t t = VSMR_MSG_TYPE_MIN; t <= VSMR_MSG_TYPE_MAX; t++) {
        struct vsmr_msg in = sample(t), out;
        size_t len = encode(&in);
        ck_assert_int_eq(decode(len, &out), 0);
        ck_assert_uint_eq(out.type, t);
        ck_assert_uint_eq(out.flags, in.flags);
        ck_assert_uint_eq(out.from, 1);
        ck_assert_uint_eq(out.to, 3);
        ck_assert_uint_eq(out.term, 5);
        ck_assert_uint_eq(out.index, in.index);
        ck_assert_uint_eq(out.log_term, in.log_term);
        ck_assert_uint_eq(out.commit, in.commit);
        ck_assert_uint_eq(out.hint, in.hint);
        ck_assert_uint_eq(out.n_entries, in.n_entries);
        for (size_t i = 0; i < in.n_entries; i++) {
            const struct vsmr_entry *a = &in.entries[i], *b = &out.entries[i];
            ck_assert_uint_eq(b->index, a->index);
            ck_assert_uint_eq(b->term, a->term);
            ck_assert_uint_eq(b->type, a->type);
            ck_assert_uint_eq(b->aux, a->aux);
            ck_assert_uint_eq(b->len, a->len);
            ck_assert(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
        }
    }
}
END_TEST

START_TEST(layout_matches_the_spec)
{
    struct vsmr_msg m = sample(VSMR_MSG_APPEND);
    size_t len = encode(&m);
    /* docs/wire-protocol.md: header, common part, APPEND, entries */
    ck_assert_uint_eq(get_le32(buf), VSMR_WIRE_MAGIC);
    ck_assert_mem_eq(buf, "VSMR", 4);
    ck_assert_uint_eq(get_le16(buf + 4), 1);
    ck_assert_uint_eq(get_le16(buf + 6), VSMR_MSG_APPEND);
    ck_assert_uint_eq(get_le32(buf + 8), len - 16);
    ck_assert_uint_eq(buf[16], 1);
    ck_assert_uint_eq(buf[17], 3);
    ck_assert_uint_eq(get_le64(buf + 24), 5);       /* term */
    ck_assert_uint_eq(get_le64(buf + 32), 10);      /* prev index */
    ck_assert_uint_eq(get_le64(buf + 40), 4);       /* prev term */
    ck_assert_uint_eq(get_le64(buf + 48), 9);       /* commit */
    ck_assert_uint_eq(get_le32(buf + 56), 4);       /* entries */
    ck_assert_uint_eq(get_le64(buf + 64), 4);       /* entry 0 term */
    size_t e3 = 64 + 3 * 24 + 12;                   /* the PROTECT entry */
    ck_assert_uint_eq(get_le64(buf + e3 + 8), UINT64_C(0xfedcba9876543210));
    ck_assert_uint_eq(buf[e3 + 16], 3);
    ck_assert_uint_eq(len, 64 + 4 * 24 + 12);
}
END_TEST

START_TEST(every_truncation_is_refused)
{
    for (uint8_t t = VSMR_MSG_TYPE_MIN; t <= VSMR_MSG_TYPE_MAX; t++) {
        struct vsmr_msg m = sample(t), out;
        size_t len = encode(&m);
        for (size_t cut = 0; cut < len; cut++)
            ck_assert_int_eq(decode(cut, &out), VSMR_EPROTO);
        /* a frame with its length patched to the cut is refused too */
        for (size_t cut = 16; cut < len; cut++) {
            encode(&m);
            put_le32(buf + 8, (uint32_t)(cut - 16));
            ck_assert_int_eq(decode(cut, &out), VSMR_EPROTO);
        }
    }
}
END_TEST

START_TEST(corrupted_fields_are_refused)
{
    struct vsmr_msg m = sample(VSMR_MSG_APPEND), out;
    static const struct { size_t off; uint8_t val; const char *why; } cases[] = {
        {0, 'X', "magic"},
        {4, 2, "version"},
        {6, 0x09, "not a log message"},
        {12, 1, "reserved"},
        {16, 0, "replica ids"},
        {17, 9, "replica ids"},
        {18, 0x80, "flags"},
        {20, 1, "reserved"},
        {31, 0x80, "term"},                 /* term above 2^62 */
        {58, 1, "entries"},                 /* count 65539 */
        {60, 1, "reserved"},
        {64 + 16, 9, "unknown type"},       /* entry 0 type */
        {64 + 17, 1, "reserved"},
        {64 + 20, 1, "carries data"},       /* NOOP with data */
        {64 + 8, 1, "aux"},                 /* NOOP with aux */
        {88 + 23, 1, "carries"},            /* entry 1 len 16M+12 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = encode(&m);
        buf[cases[i].off] = cases[i].val;
        ck_assert_msg(decode(len, &out) == VSMR_EPROTO, "case %zu", i);
        ck_assert_msg(strstr(vsmr_errmsg(), cases[i].why) != NULL,
                      "case %zu: \"%s\" lacks \"%s\"", i, vsmr_errmsg(),
                      cases[i].why);
    }
    size_t len = encode(&m);
    buf[len] = 0;                                  /* one byte too many */
    put_le32(buf + 8, (uint32_t)(len + 1 - 16));
    ck_assert_int_eq(decode(len + 1, &out), VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "trailing"));
}
END_TEST

START_TEST(random_corruption_never_breaks_the_decoder)
{
    uint64_t rng = 12345;
    for (int round = 0; round < 20000; round++) {
        struct vsmr_msg m = sample((uint8_t)(1 + round % 8)), out;
        size_t len = encode(&m);
        for (int k = 0; k < 1 + round % 4; k++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            buf[(rng >> 33) % len] ^= (uint8_t)(1u << ((rng >> 20) % 8));
        }
        if (decode(len, &out) == 0) {   /* whatever decodes is in bounds */
            ck_assert_uint_le(out.n_entries, VSMR_LOG_MAX_MSG_ENTRIES);
            for (size_t i = 0; i < out.n_entries; i++)
                ck_assert(out.entries[i].len == 0 ||
                          (out.entries[i].data >= buf &&
                           out.entries[i].data + out.entries[i].len <=
                               buf + len));
        }
    }
}
END_TEST

START_TEST(encoder_respects_buffer_and_limits)
{
    struct vsmr_msg m = sample(VSMR_MSG_APPEND);
    size_t len = 0, need = vsmr_wire_log_size(&m);
    ck_assert_int_eq(vsmr_wire_log_encode(&m, buf, need - 1, &len),
                     VSMR_ERANGE);
    struct vsmr_entry big = {.type = VSMR_ENTRY_NORMAL, .data = buf,
                             .len = VSMR_LOG_MAX_ENTRY_DATA + 1};
    m.entries = &big;
    m.n_entries = 1;
    ck_assert_int_eq(vsmr_wire_log_encode(&m, buf, sizeof buf, &len),
                     VSMR_EINVAL);
    m.n_entries = VSMR_LOG_MAX_MSG_ENTRIES + 1;
    ck_assert_int_eq(vsmr_wire_log_encode(&m, buf, sizeof buf, &len),
                     VSMR_EINVAL);
    m = sample(VSMR_MSG_VOTE);
    m.type = 0x42;
    ck_assert_int_eq(vsmr_wire_log_encode(&m, buf, sizeof buf, &len),
                     VSMR_EINVAL);
}
END_TEST

START_TEST(header_decoder_checks_the_frame)
{
    struct vsmr_wire_header h;
    vsmr_wire_header_encode(buf, 0x0101, 100);
    ck_assert_int_eq(vsmr_wire_header_decode(buf, 16, &h), 0);
    ck_assert_uint_eq(h.type, 0x0101);
    ck_assert_uint_eq(h.length, 100);
    ck_assert_int_eq(vsmr_wire_header_decode(buf, 15, &h), VSMR_EPROTO);
    vsmr_wire_header_encode(buf, 1, VSMR_WIRE_MAX_FRAME);
    ck_assert_int_eq(vsmr_wire_header_decode(buf, 16, &h), VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "exceeds"));
    vsmr_wire_header_encode(buf, 0, 0);
    ck_assert_int_eq(vsmr_wire_header_decode(buf, 16, &h), VSMR_EPROTO);
}
END_TEST

/* A sync message with a reserved field set is refused (found by
 * fuzz_wire_sync: it decoded, then re-encoded with the field zeroed). */
START_TEST(sync_reserved_fields_are_refused)
{
    static const uint8_t hashes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct vsmr_wire_sync msgs[] = {
        {.type = VSMR_WIRE_SYNC_HASHES, .epoch = 3, .count = 0,
         .hashes = hashes},
        {.type = VSMR_WIRE_SYNC_DONE, .epoch = 3},
        {.type = VSMR_WIRE_SYNC_ACK, .epoch = 3},
        {.type = VSMR_WIRE_SYNC_ABORT, .epoch = 3},
        {.type = VSMR_WIRE_SYNC_READY, .epoch = 3},
        {.type = VSMR_WIRE_SYNC_READY, .epoch = 3},
    };
    const size_t reserved_at[] = {20, 20, 12, 12, 8, 12};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        uint8_t msg[256];
        size_t n = 0;
        struct vsmr_wire_sync back;
        ck_assert_int_eq(vsmr_wire_sync_encode(&msgs[i], msg, sizeof msg, &n), 0);
        ck_assert_int_eq(vsmr_wire_sync_decode(msg, n, &back, NULL), 0);
        msg[VSMR_WIRE_HEADER_SIZE + reserved_at[i]] = 1;
        ck_assert_int_eq(vsmr_wire_sync_decode(msg, n, &back, NULL), VSMR_EPROTO);
        ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "reserved field"));
    }
}
END_TEST

/* SYNC_READY: 16 bytes, the epoch back as sent, any other length refused. */
START_TEST(sync_ready_round_trips)
{
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_READY, .epoch = 77};
    uint8_t msg[64];
    size_t n = 0;
    struct vsmr_wire_sync back;
    ck_assert_int_eq(vsmr_wire_sync_encode(&m, msg, sizeof msg, &n), 0);
    ck_assert_uint_eq(n, VSMR_WIRE_HEADER_SIZE + 16);
    ck_assert_int_eq(vsmr_wire_sync_decode(msg, n, &back, NULL), 0);
    ck_assert_uint_eq(back.type, VSMR_WIRE_SYNC_READY);
    ck_assert_uint_eq(back.epoch, 77);
    for (size_t len = VSMR_WIRE_HEADER_SIZE; len < n; len++) {
        msg[8] = (uint8_t)(len - VSMR_WIRE_HEADER_SIZE);   /* header length */
        ck_assert_int_eq(vsmr_wire_sync_decode(msg, len, &back, NULL), VSMR_EPROTO);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("wire");
    tcase_add_test(tc, every_log_message_round_trips);
    tcase_add_test(tc, layout_matches_the_spec);
    tcase_add_test(tc, every_truncation_is_refused);
    tcase_add_test(tc, corrupted_fields_are_refused);
    tcase_add_test(tc, random_corruption_never_breaks_the_decoder);
    tcase_add_test(tc, encoder_respects_buffer_and_limits);
    tcase_add_test(tc, header_decoder_checks_the_frame);
    tcase_add_test(tc, sync_reserved_fields_are_refused);
    tcase_add_test(tc, sync_ready_round_trips);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
