/*
 * test_wire_sync_z.c - the zstd-compressed sync frames (SYNC_DIRTY_Z,
 * PAGES_Z): both round-trip, go plain when zstd would not save bytes, and
 * every malformed frame - truncated, corrupted, declaring too little, too
 * much or a huge content ("zip bomb"), over the page limit - is refused
 * with VSMR_EPROTO and a message naming the message and the field.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "wire/wire_bytes.h"
#include "wire/wire_sync.h"
#include "vsmr/vsmr.h"

#define XEN_PAGES 1044480u         /* a 128 MiB PVH guest's gfn span */
#define RECORD VSMR_WIRE_PAGE_RECORD

static struct vsmr_wire_z *z;
static uint8_t *frame, *raw;       /* VSMR_WIRE_MAX_FRAME each */

static void setup(void)
{
    ck_assert_int_eq(vsmr_wire_z_new(1, VSMR_WIRE_MAX_INFLATED, &z), VSMR_OK);
    frame = malloc(VSMR_WIRE_MAX_FRAME);
    raw = malloc(VSMR_WIRE_MAX_FRAME);
    ck_assert(frame && raw);
}

static void teardown(void)
{
    vsmr_wire_z_free(z);
    free(frame);
    free(raw);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A sparse bitmap: ~500 dirty pages in clusters, like one sync's. */
static void sparse_bitmap(uint8_t *bm, uint64_t pages)
{
    uint64_t s = 42;
    memset(bm, 0, (pages + 63) / 64 * 8);
    for (int i = 0; i < 120; i++) {
        uint64_t p = rng(&s) % (pages < 32768 ? pages : 32768);
        for (uint64_t k = p; k < p + 1 + rng(&s) % 8 && k < pages; k++)
            bm[k / 8] |= (uint8_t)(1u << (k % 8));
    }
}

/* count page records: text-like content (compressible) or random. */
static void records(uint8_t *r, uint32_t count, bool random)
{
    uint64_t s = 7;
    for (uint32_t i = 0; i < count; i++) {
        put_le64(r + (size_t)i * RECORD, 1000 + 3 * i);
        uint8_t *d = r + (size_t)i * RECORD + 8;
        for (size_t k = 0; k < 4096; k++)
            d[k] = random ? (uint8_t)rng(&s)
                          : k % 512 < 300 ? (uint8_t)('a' + rng(&s) % 26) : 0;
    }
}

/* Encodes m with zstd allowed; returns the frame size. */
static size_t encode_z(const struct vsmr_wire_sync *m)
{
    size_t n = 0;
    ck_assert_int_eq(vsmr_wire_sync_encode_z(z, m, frame, VSMR_WIRE_MAX_FRAME,
                                             &n), VSMR_OK);
    return n;
}

static uint16_t type_of(const uint8_t *f)
{
    return get_le16(f + 6);
}

START_TEST(dirty_z_round_trips)
{
    const uint64_t sizes[] = {1, 63, 64, 4096, XEN_PAGES};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t pages = sizes[i];
        size_t bytes = (pages + 63) / 64 * 8;
        sparse_bitmap(raw, pages);
        struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_DIRTY, .epoch = 9,
                                   .guest_pages = pages, .bitmap = raw}, back;
        size_t n = encode_z(&m);
        /* zstd only where it saves bytes; a Xen guest's bitmap shrinks
         * from 130,560 bytes to a few hundred. */
        ck_assert_uint_le(n, vsmr_wire_sync_size(&m));
        if (pages == XEN_PAGES) {
            ck_assert_uint_eq(type_of(frame), VSMR_WIRE_SYNC_DIRTY_Z);
            ck_assert_uint_lt(n, 2048);
        }
        ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, z), VSMR_OK);
        ck_assert_uint_eq(back.epoch, 9);
        ck_assert_uint_eq(back.guest_pages, pages);
        ck_assert_mem_eq(back.bitmap, raw, bytes);
        /* What the decoder accepted re-encodes to the same bytes. */
        size_t again = 0;
        uint8_t *copy = malloc(n);
        ck_assert_int_eq(vsmr_wire_sync_encode(&back, copy, n, &again), VSMR_OK);
        ck_assert_uint_eq(again, n);
        ck_assert_mem_eq(copy, frame, n);
        free(copy);
    }
}
END_TEST

START_TEST(pages_z_round_trips)
{
    const uint32_t counts[] = {1, 256, VSMR_WIRE_MAX_PAGES};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        records(raw, counts[i], false);
        struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = 4,
                                   .count = counts[i], .pages = raw}, back;
        size_t n = encode_z(&m);
        ck_assert_uint_eq(type_of(frame), VSMR_WIRE_PAGES_Z);
        ck_assert_uint_lt(n * 2, vsmr_wire_sync_size(&m));
        ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, z), VSMR_OK);
        ck_assert_uint_eq(back.type, VSMR_WIRE_PAGES_Z);
        ck_assert_uint_eq(back.count, counts[i]);
        ck_assert_uint_eq(vsmr_wire_page_pfn(&back, counts[i] - 1),
                          1000 + 3 * (counts[i] - 1));
        ck_assert_mem_eq(back.pages, raw, (size_t)counts[i] * RECORD);
    }
}
END_TEST

/* Random pages and a dense random bitmap do not shrink: they go plain. */
START_TEST(incompressible_content_goes_plain)
{
    records(raw, 16, true);
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = 1,
                               .count = 16, .pages = raw}, back;
    size_t n = encode_z(&m);
    ck_assert_uint_eq(type_of(frame), VSMR_WIRE_PAGES);
    ck_assert_uint_eq(n, vsmr_wire_sync_size(&m));
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, z), VSMR_OK);
    ck_assert_mem_eq(back.pages, raw, 16 * RECORD);

    uint64_t s = 3;
    for (size_t k = 0; k < 512; k++)
        raw[k] = (uint8_t)rng(&s);
    struct vsmr_wire_sync d = {.type = VSMR_WIRE_SYNC_DIRTY, .epoch = 1,
                               .guest_pages = 4096, .bitmap = raw};
    n = encode_z(&d);
    ck_assert_uint_eq(type_of(frame), VSMR_WIRE_SYNC_DIRTY);
    /* Other messages are never compressed. */
    struct vsmr_wire_sync a = {.type = VSMR_WIRE_SYNC_ACK, .epoch = 1};
    n = encode_z(&a);
    ck_assert_uint_eq(type_of(frame), VSMR_WIRE_SYNC_ACK);
    ck_assert_uint_eq(n, 48);
}
END_TEST

/* A Z frame whose zstd data is data[len] and whose fields are m's. */
static size_t z_frame(uint16_t type, uint64_t guest_pages, uint32_t count,
                      const uint8_t *data, size_t len)
{
    struct vsmr_wire_sync m = {.type = type, .epoch = 2,
                               .guest_pages = guest_pages, .count = count,
                               .zdata = data, .zlen = (uint32_t)len};
    size_t n = 0;
    ck_assert_int_eq(vsmr_wire_sync_encode(&m, frame, VSMR_WIRE_MAX_FRAME, &n),
                     VSMR_OK);
    return n;
}

/* The frame is refused with a message holding both words. */
static void refused(size_t n, const char *what, const char *field)
{
    struct vsmr_wire_sync back;
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, z), VSMR_EPROTO);
    ck_assert_msg(strstr(vsmr_errmsg(), what) && strstr(vsmr_errmsg(), field),
                  "message '%s' lacks '%s' or '%s'", vsmr_errmsg(), what,
                  field);
}

/* zstd of src[n], with or without the content size in the header. */
static size_t zstd_of(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                      bool content_size)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size);
    size_t r = content_size ? ZSTD_compress2(c, dst, cap, src, n) : 0;
    if (!content_size) {     /* streamed: the size is not known up front */
        ZSTD_outBuffer out = {dst, cap, 0};
        ZSTD_inBuffer in = {src, n, 0};
        r = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end);
        ck_assert_uint_eq(r, 0);
        r = out.pos;
    }
    ZSTD_freeCCtx(c);
    ck_assert(!ZSTD_isError(r));
    return r;
}

START_TEST(truncated_zstd_is_refused)
{
    records(raw, 2, false);
    static uint8_t zd[2 * RECORD];
    size_t zn = zstd_of(raw, 2 * RECORD, zd, sizeof zd, true);
    for (size_t cut = 0; cut < zn; cut++)
        refused(z_frame(VSMR_WIRE_PAGES_Z, 0, 2, zd, cut), "pages (zstd)",
                cut < 4 ? "not a zstd frame" : "zstd");
    /* And the frame itself cut short: the header's length disagrees. */
    size_t n = z_frame(VSMR_WIRE_PAGES_Z, 0, 2, zd, zn);
    struct vsmr_wire_sync back;
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n - 1, &back, z), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, 16 + 15, &back, z),
                     VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "header says"));
    n = z_frame(VSMR_WIRE_PAGES_Z, 0, 2, zd, 0);
    put_le32(frame + 8, 12);           /* payload shorter than the fields */
    refused(16 + 12, "pages (zstd)", "expected 16");
}
END_TEST

START_TEST(corrupted_zstd_is_refused)
{
    records(raw, 4, false);
    static uint8_t zd[4 * RECORD];
    size_t zn = zstd_of(raw, 4 * RECORD, zd, sizeof zd, true);
    /* The first block header follows the frame header: make its type the
     * reserved one (3). */
    uint8_t fhd = zd[4];
    size_t at = 5 + !(fhd & 0x20) + (size_t[]){0, 1, 2, 4}[fhd & 3] +
                (size_t[]){(fhd & 0x20) ? 1 : 0, 2, 4, 8}[fhd >> 6];
    zd[at] |= 0x06;
    refused(z_frame(VSMR_WIRE_PAGES_Z, 0, 4, zd, zn), "pages (zstd)",
            "corrupted");
    /* Not zstd at all: bad magic, a skippable frame. */
    static const uint8_t junk[16] = {1, 2, 3, 4, 5, 6, 7, 8};
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 64, 0, junk, sizeof junk),
            "sync dirty (zstd)", "not a zstd frame (magic 0x04030201)");
    uint8_t skip[16] = {0x50, 0x2a, 0x4d, 0x18, 8, 0, 0, 0};
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 64, 0, skip, sizeof skip),
            "sync dirty (zstd)", "not a zstd frame");
    /* Bytes after the frame (a second frame, or garbage). */
    memset(raw, 0, 8);
    zn = zstd_of(raw, 8, zd, sizeof zd, true);
    memcpy(zd + zn, zd, zn);
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 64, 0, zd, 2 * zn),
            "sync dirty (zstd)", "follow the");
    /* Random damage never gets past the bounds: refused, or exactly the
     * declared size (zstd carries no checksum; the transport's MAC does). */
    records(raw, 4, false);
    zn = zstd_of(raw, 4 * RECORD, zd, sizeof zd, true);
    uint64_t s = 11;
    for (int i = 0; i < 3000; i++) {
        static uint8_t bad[4 * RECORD];
        memcpy(bad, zd, zn);
        for (int k = 0; k < 3; k++)
            bad[rng(&s) % zn] ^= (uint8_t)(1u << (rng(&s) % 8));
        size_t n = z_frame(VSMR_WIRE_PAGES_Z, 0, 4, bad, zn);
        struct vsmr_wire_sync back;
        int rc = vsmr_wire_sync_decode(frame, n, &back, z);
        ck_assert(rc == VSMR_OK || rc == VSMR_EPROTO);
        if (rc == VSMR_OK)
            ck_assert_uint_eq(back.count, 4);
        else
            ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "pages (zstd)"));
    }
}
END_TEST

START_TEST(declared_size_must_match_exactly)
{
    static uint8_t zd[8192];
    memset(raw, 0, 3 * RECORD);
    /* PAGES_Z of 2 pages whose frame holds 1 or 3 pages' worth. */
    size_t zn = zstd_of(raw, RECORD, zd, sizeof zd, true);
    refused(z_frame(VSMR_WIRE_PAGES_Z, 0, 2, zd, zn), "pages (zstd)",
            "declares 4104 bytes of content, expected exactly 8208");
    zn = zstd_of(raw, 3 * RECORD, zd, sizeof zd, true);
    refused(z_frame(VSMR_WIRE_PAGES_Z, 0, 2, zd, zn), "pages (zstd)",
            "declares 12312 bytes of content, expected exactly 8208");
    /* SYNC_DIRTY_Z of 100 pages (16 bytes) holding 8 or 24 bytes. */
    zn = zstd_of(raw, 8, zd, sizeof zd, true);
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 100, 0, zd, zn),
            "sync dirty (zstd)", "expected exactly 16");
    zn = zstd_of(raw, 24, zd, sizeof zd, true);
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 100, 0, zd, zn),
            "sync dirty (zstd)", "expected exactly 16");
    /* No declared size at all. */
    zn = zstd_of(raw, 16, zd, sizeof zd, false);
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 100, 0, zd, zn),
            "sync dirty (zstd)", "does not declare its content size");
}
END_TEST

/* A frame that declares a huge content ("zip bomb") is refused before a
 * byte is decompressed, and a receiver never takes more than it sized. */
START_TEST(zip_bombs_are_refused)
{
    /* magic; FHD: 8-byte content size, single segment; the size 2^40;
     * one RLE block of 2^17 - 1 zero bytes. */
    uint8_t bomb[4 + 1 + 8 + 4] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0};
    put_le64(bomb + 5, UINT64_C(1) << 40);
    uint32_t bh = 1u | (1u << 1) | (((1u << 17) - 1) << 3);   /* last, RLE */
    bomb[13] = (uint8_t)bh;
    bomb[14] = (uint8_t)(bh >> 8);
    bomb[15] = (uint8_t)(bh >> 16);
    bomb[16] = 0;
    refused(z_frame(VSMR_WIRE_PAGES_Z, 0, 1, bomb, sizeof bomb),
            "pages (zstd)", "declares 1099511627776 bytes");
    refused(z_frame(VSMR_WIRE_SYNC_DIRTY_Z, XEN_PAGES, 0, bomb, sizeof bomb),
            "sync dirty (zstd)", "expected exactly 130560");
    /* The right declared size for the guest_pages sent, but more than
     * this receiver sized its buffer for. */
    struct vsmr_wire_z *small;
    ck_assert_int_eq(vsmr_wire_z_new(1, 4096, &small), VSMR_OK);
    memset(raw, 0, 8192);
    static uint8_t zd[256];
    size_t zn = zstd_of(raw, 8192, zd, sizeof zd, true);
    size_t n = z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 65536, 0, zd, zn);
    struct vsmr_wire_sync back;
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, small), VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "more than this receiver"));
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, z), VSMR_OK);
    vsmr_wire_z_free(small);
    /* Without a decompressor nothing compressed is taken. */
    ck_assert_int_eq(vsmr_wire_sync_decode(frame, n, &back, NULL), VSMR_EPROTO);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "no zstd decompressor"));
}
END_TEST

START_TEST(fields_are_checked_before_the_data)
{
    static uint8_t zd[64];
    memset(raw, 0, 16);
    size_t zn = zstd_of(raw, 16, zd, sizeof zd, true);
    /* count over the limit, and 0 */
    size_t n = z_frame(VSMR_WIRE_PAGES_Z, 0, 1, zd, zn);
    put_le32(frame + 16 + 8, VSMR_WIRE_MAX_PAGES + 1);
    refused(n, "pages (zstd)", "1025 pages in one frame (1..1024)");
    put_le32(frame + 16 + 8, 0);
    refused(n, "pages (zstd)", "0 pages in one frame");
    /* the reserved field */
    put_le32(frame + 16 + 8, 1);
    put_le32(frame + 16 + 12, 5);
    refused(n, "pages (zstd)", "reserved field");
    /* guest_pages out of range */
    n = z_frame(VSMR_WIRE_SYNC_DIRTY_Z, 128, 0, zd, zn);
    put_le64(frame + 16 + 8, VSMR_WIRE_MAX_GUEST_PAGES + 1);
    refused(n, "sync dirty (zstd)", "guest pages (1..67108864)");
    put_le64(frame + 16 + 8, 0);
    refused(n, "sync dirty (zstd)", "0 guest pages");
    /* the encoder refuses what the decoder would */
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES_Z, .count = 2000,
                               .zdata = zd, .zlen = (uint32_t)zn};
    ck_assert_int_eq(vsmr_wire_sync_encode(&m, frame, VSMR_WIRE_MAX_FRAME, &n),
                     VSMR_EINVAL);
}
END_TEST

START_TEST(codec_arguments_are_checked)
{
    struct vsmr_wire_z *x = NULL;
    ck_assert_int_eq(vsmr_wire_z_new(1, 0, &x), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_wire_z_new(1, VSMR_WIRE_MAX_INFLATED + 1, &x),
                     VSMR_EINVAL);
    ck_assert_int_eq(vsmr_wire_z_new(1000, 4096, &x), VSMR_EINVAL);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "level 1000"));
    ck_assert_ptr_null(x);
    vsmr_wire_z_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wire_sync_z");
    TCase *tc = tcase_create("zstd frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dirty_z_round_trips);
    tcase_add_test(tc, pages_z_round_trips);
    tcase_add_test(tc, incompressible_content_goes_plain);
    tcase_add_test(tc, truncated_zstd_is_refused);
    tcase_add_test(tc, corrupted_zstd_is_refused);
    tcase_add_test(tc, declared_size_must_match_exactly);
    tcase_add_test(tc, zip_bombs_are_refused);
    tcase_add_test(tc, fields_are_checked_before_the_data);
    tcase_add_test(tc, codec_arguments_are_checked);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
