/*
 * gen_sync_z_corpus.c - writes the zstd seeds of fuzz_wire_sync's corpus:
 * a SYNC_DIRTY_Z of a sparse 128 MiB Xen guest's bitmap and of a small
 * one, PAGES_Z of one and of three pages, and a PAGES_Z whose frame
 * declares one page too few. Not built by make; run:
 *   cc -Itools/libvsmr -Itools/libvsmr/include tests/fuzz/tools/gen_sync_z_corpus.c \
 *      build/libvsmr.a -lzstd -o /tmp/gen && /tmp/gen tests/fuzz/corpus/fuzz_wire_sync
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_sync.h"

static uint8_t frame[1 << 20], raw[1 << 18];

static void write_file(const char *dir, const char *name, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(frame, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static size_t encode(struct vsmr_wire_z *z, const struct vsmr_wire_sync *m)
{
    size_t n = 0;
    if (vsmr_wire_sync_encode_z(z, m, frame, sizeof frame, &n) != 0 ||
        (get_le16(frame + 6) != VSMR_WIRE_SYNC_DIRTY_Z &&
         get_le16(frame + 6) != VSMR_WIRE_PAGES_Z)) {
        fprintf(stderr, "gen: the seed did not compress\n");
        exit(1);
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/fuzz_wire_sync";
    struct vsmr_wire_z *z;
    if (vsmr_wire_z_new(1, sizeof raw, &z) != 0)
        return 1;
    for (uint64_t p = 100; p < 30000; p += 61 + p % 7)
        raw[p / 8] |= (uint8_t)(1u << (p % 8));
    struct vsmr_wire_sync d = {.type = VSMR_WIRE_SYNC_DIRTY, .epoch = 3,
                               .guest_pages = 1044480, .bitmap = raw};
    write_file(dir, "dirty-z-xen", encode(z, &d));
    d.guest_pages = 1000;
    write_file(dir, "dirty-z", encode(z, &d));
    memset(raw, 0, sizeof raw);
    for (uint32_t i = 0; i < 3; i++) {
        put_le64(raw + i * VSMR_WIRE_PAGE_RECORD, 7 + i);
        for (size_t k = 0; k < 1000; k++)
            raw[i * VSMR_WIRE_PAGE_RECORD + 8 + k] = (uint8_t)('a' + k * i % 26);
    }
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = 3,
                               .count = 1, .pages = raw};
    write_file(dir, "pages-z", encode(z, &m));
    m.count = 3;
    size_t n = encode(z, &m);
    write_file(dir, "pages-z-3", n);
    put_le32(frame + 16 + 8, 4);       /* declares one page too few */
    write_file(dir, "pages-z-count-mismatch", n);
    vsmr_wire_z_free(z);
    return 0;
}
