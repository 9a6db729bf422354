/*
 * bench_zstd.c - what zstd does to sync frames, per level, through the
 * wire encoder the engine uses (vsmr_wire_sync_encode_z): the size of a
 * 256-page PAGES_Z frame against plain PAGES and the time to make it
 * (the primary is paused meanwhile), and the size of a dirty bitmap as
 * SYNC_DIRTY_Z against a run-length list of the same pages.
 *
 * Pages: a 64 MiB sim guest's dirty pages after client-like writes
 * (256-byte values of random letters, 70 % writes, 5,000 keys), and the
 * first 1 MiB of a few system files as stand-ins for a real guest's
 * kernel and program pages. Bitmaps: the sim guest's, and the same bits
 * in the gfn span of a 128 MiB Xen PVH guest (1,044,480 pages). No pass
 * or fail: the figures behind docs/benchmarks.md, "Compressed sync
 * frames".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsmr/guest.h"
#include "vsmr/hash.h"
#include "vsmr/sim.h"
#include "wire/wire_sync.h"

#define PAGES      16384u           /* 64 MiB */
#define XEN_PAGES  1044480u
#define BATCH      256u             /* pages per frame, as the engine */
#define ROUNDS     10
#define NLEVELS    4

static const int levels[NLEVELS] = {-5, -1, 1, 3};
static struct vsmr_wire_z *z[NLEVELS];
static uint8_t *frame, *records;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_zstd: %s: %s\n", what, vsmr_errmsg());
    exit(1);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Encodes m at every level: adds frame sizes to size[], ms to ms[]. */
static void encode_all(const struct vsmr_wire_sync *m, double *size,
                       double *ms)
{
    for (int l = 0; l < NLEVELS; l++) {
        size_t n = 0;
        double t0 = now_ms();
        if (vsmr_wire_sync_encode_z(z[l], m, frame, VSMR_WIRE_MAX_FRAME,
                                    &n) < 0)
            die("encode");
        ms[l] += now_ms() - t0;
        size[l] += (double)n;
    }
}

/* Bytes of a list of runs of set bits: (gap, length) as LEB128 varints. */
static size_t run_list_bytes(const uint64_t *bm, uint64_t pages)
{
    size_t n = 0;
    uint64_t last = 0;
    for (uint64_t p = 0; p < pages;) {
        if (!(bm[p / 64] >> (p % 64) & 1)) {
            p++;
            continue;
        }
        uint64_t start = p;
        while (p < pages && (bm[p / 64] >> (p % 64) & 1))
            p++;
        for (uint64_t v = start - last; ; v >>= 7, n++)
            if (v < 128) { n++; break; }
        for (uint64_t v = p - start; ; v >>= 7, n++)
            if (v < 128) { n++; break; }
        last = p;
    }
    return n;
}

static void print_pages(const char *what, size_t pages, double raw,
                        const double *size, const double *ms, int rounds)
{
    printf("%-34s %6.0f", what, (double)pages / rounds);
    for (int l = 0; l < NLEVELS; l++)
        printf("  %5.1f%% %6.2f ms", 100.0 * size[l] / raw, ms[l] / rounds);
    printf("  (L1 %.0f MB/s)\n", raw / 1e3 / ms[2]);
}

/* rounds of `requests` requests, then the dirty pages and bitmap. */
static void sim_rounds(vsmr_guest *g, int requests, uint64_t *bm,
                       uint64_t *xbm, uint64_t *pfns)
{
    double size[NLEVELS] = {0}, ms[NLEVELS] = {0}, bsize[NLEVELS] = {0},
           xsize[NLEVELS] = {0}, dummy[NLEVELS] = {0}, raw = 0;
    size_t pages = 0, runs = 0, xraw = 0;
    uint64_t s = 77;
    uint8_t req[VSMR_SIM_MAX_MSG], val[256];
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < requests; i++) {
            char key[24];
            snprintf(key, sizeof key, "c00000007-%u",
                     (unsigned)(rng(&s) % 5000));
            bool w = rng(&s) % 10 < 7;
            for (size_t k = 0; k < sizeof val; k++)
                val[k] = (uint8_t)('a' + rng(&s) % 26);
            size_t len = vsmr_sim_encode_request(req, sizeof req, (uint32_t)i,
                w ? VSMR_SIM_SET : VSMR_SIM_GET, key, strlen(key), val,
                w ? sizeof val : 0, 0);
            if (vsmr_sim_send(g, req, len) < 0)
                die("send");
        }
        while (vsmr_sim_completed(g) != vsmr_sim_sent(g)) {
            size_t len;
            while (vsmr_sim_recv(g, req, sizeof req, &len, 1) == VSMR_OK)
                ;
        }
        if (vsmr_guest_pause(g) < 0 ||
            vsmr_guest_dirty_fetch_clear(g, bm, PAGES / 64) < 0)
            die("dirty bitmap");
        size_t n = vsmr_bitmap_to_pfns(bm, PAGES, pfns);
        for (size_t done = 0; done < n; done += BATCH) {
            size_t k = n - done < BATCH ? n - done : BATCH;
            void *map[BATCH], *cookie;
            if (vsmr_guest_map(g, pfns + done, k, VSMR_MAP_READ, map,
                               &cookie) < 0)
                die("map");
            for (size_t i = 0; i < k; i++) {
                put_le64(records + i * VSMR_WIRE_PAGE_RECORD, pfns[done + i]);
                memcpy(records + i * VSMR_WIRE_PAGE_RECORD + 8, map[i],
                       VSMR_PAGE_SIZE);
            }
            vsmr_guest_unmap(g, cookie, map, k);
            struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = 1,
                                       .count = (uint32_t)k,
                                       .pages = records};
            encode_all(&m, size, ms);
            raw += (double)vsmr_wire_sync_size(&m);
        }
        pages += n;
        memcpy(xbm, bm, PAGES / 8);         /* RAM first, then the hole */
        struct vsmr_wire_sync d = {.type = VSMR_WIRE_SYNC_DIRTY, .epoch = 1,
                                   .guest_pages = PAGES,
                                   .bitmap = (const uint8_t *)bm};
        encode_all(&d, bsize, dummy);
        d.guest_pages = XEN_PAGES;
        d.bitmap = (const uint8_t *)xbm;
        encode_all(&d, xsize, dummy);
        xraw = vsmr_wire_sync_size(&d);
        runs += run_list_bytes(bm, PAGES);
        if (vsmr_guest_unpause(g) < 0)
            die("unpause");
    }
    char what[64];
    snprintf(what, sizeof what, "sim, %d requests/round", requests);
    print_pages(what, pages, raw, size, ms, ROUNDS);
    printf("  bitmap as SYNC_DIRTY_Z (bytes): sim %u B plain:", PAGES / 8 + 32);
    for (int l = 0; l < NLEVELS; l++)
        printf(" L%d %.0f", levels[l], bsize[l] / ROUNDS);
    printf("; Xen span %zu B plain:", xraw);
    for (int l = 0; l < NLEVELS; l++)
        printf(" L%d %.0f", levels[l], xsize[l] / ROUNDS);
    printf("; run list %.0f\n", (double)runs / ROUNDS);
}

static void file_pages(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint32_t n = 0;
    while (n < BATCH &&
           fread(records + n * VSMR_WIRE_PAGE_RECORD + 8, 1, VSMR_PAGE_SIZE,
                 f) == VSMR_PAGE_SIZE) {
        put_le64(records + n * VSMR_WIRE_PAGE_RECORD, 1000 + n);
        n++;
    }
    fclose(f);
    if (!n)
        return;
    double size[NLEVELS] = {0}, ms[NLEVELS] = {0};
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = 1,
                               .count = n, .pages = records};
    for (int r = 0; r < ROUNDS; r++)
        encode_all(&m, size, ms);
    const char *base = strrchr(path, '/');
    print_pages(base ? base + 1 : path, (size_t)n * ROUNDS,
                (double)vsmr_wire_sync_size(&m) * ROUNDS, size, ms, ROUNDS);
}

int main(void)
{
    frame = malloc(VSMR_WIRE_MAX_FRAME);
    records = malloc((size_t)BATCH * VSMR_WIRE_PAGE_RECORD);
    uint64_t *bm = calloc(PAGES / 64, 8), *xbm = calloc(XEN_PAGES / 64, 8);
    uint64_t *pfns = malloc(PAGES * 8);
    if (!frame || !records || !bm || !xbm || !pfns)
        return 1;
    for (int l = 0; l < NLEVELS; l++)
        if (vsmr_wire_z_new(levels[l], 1 << 20, &z[l]) < 0)
            die("zstd codec");
    vsmr_guest *g;
    if (vsmr_guest_open("sim", "pages=16384,workers=4", &g) < 0 ||
        vsmr_guest_logdirty(g, true) < 0)
        die("sim guest");
    printf("zstd on sync frames: PAGES_Z of <= %u pages (size %% of plain "
           "PAGES, ms to encode one epoch's pages, %d rounds averaged)\n",
           BATCH, ROUNDS);
    printf("%-34s %6s", "pages", "/round");
    for (int l = 0; l < NLEVELS; l++)
        printf("  L%-2d size      time", levels[l]);
    printf("  (L1: the engine's level)\n");
    sim_rounds(g, 1500, bm, xbm, pfns);
    sim_rounds(g, 300, bm, xbm, pfns);
    static const char *const files[] = {
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "/usr/bin/qemu-system-x86_64",
        "/var/lib/dpkg/status",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        file_pages(files[i]);
    vsmr_guest_close(g);
    for (int l = 0; l < NLEVELS; l++)
        vsmr_wire_z_free(z[l]);
    free(frame); free(records); free(bm); free(xbm); free(pfns);
    return 0;
}
