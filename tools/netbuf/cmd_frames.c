/*
 * cmd_frames.c - vsmr-netbuf's capture and inject: move diverted input
 * frames through a file in the log entry format, the way vsmrd moves them
 * through the log (for tests and for an operator's debugging).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vsmr/netio.h"
#include "netbuf_cmd.h"

struct held {
    struct vsmr_netio_frame f[VSMR_NETIO_ENTRY_MAX_FRAMES];
    size_t n, want;
};

static const char *proto_name(uint16_t t)
{
    switch (t) {
    case 0x0800: return "ipv4";
    case 0x0806: return "arp";
    case 0x86dd: return "ipv6";
    case 0x8100: return "vlan";
    default: return "other";
    }
}

static void keep(void *arg, const struct vsmr_netio_frame *f)
{
    struct held *h = arg;
    if (h->n >= h->want)
        return;
    uint8_t *copy = malloc(f->len);
    if (!copy)
        return;
    memcpy(copy, f->data, f->len);
    h->f[h->n] = *f;
    h->f[h->n].data = copy;
    uint16_t t = (uint16_t)(f->data[12] << 8 | f->data[13]);
    printf("frame %zu len %u proto 0x%04x %s gso %u csum %u\n", h->n, f->len,
           t, proto_name(t), f->vnet.gso_type, f->vnet.flags & 1);
    fflush(stdout);
    h->n++;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(p, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "vsmr-netbuf: writing %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    return 0;
}

int netbuf_cmd_capture(const char *vif, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "vsmr-netbuf: capture VIF FILE [--count N] "
                "[--timeout MS]\n");
        return 2;
    }
    const char *path = argv[0];
    long count = 64, timeout = 5000;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--count") && v > 0 &&
            v <= (long)VSMR_NETIO_ENTRY_MAX_FRAMES)
            count = v;
        else if (!strcmp(argv[i], "--timeout") && v >= 0)
            timeout = v;
        else {
            fprintf(stderr, "vsmr-netbuf: capture: bad option %s\n", argv[i]);
            return 2;
        }
    }
    struct vsmr_netcap *cap;
    int err = vsmr_netcap_open(vif, 0, &cap);
    if (err < 0) {
        fprintf(stderr, "vsmr-netbuf: capture %s: %s\n", vif, vsmr_errmsg());
        return 1;
    }
    static struct held h;
    h.want = (size_t)count;
    printf("capturing %s ready\n", vif);
    fflush(stdout);
    int64_t end = now_ms() + timeout;
    while (h.n < h.want) {
        int64_t left = end - now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = vsmr_netcap_fd(cap), .events = POLLIN};
        poll(&pfd, 1, (int)(left < 50 ? left : 50));
        vsmr_netcap_drain(cap, keep, &h, 0);
    }
    vsmr_netcap_close(cap);
    printf("captured %zu frames\n", h.n);
    int rc = 0;
    if (h.n > 0) {
        size_t len = vsmr_netio_entry_size(h.f, h.n), out;
        uint8_t *buf = malloc(len);
        if (!buf || vsmr_netio_entry_encode(h.f, h.n, buf, len, &out) < 0) {
            fprintf(stderr, "vsmr-netbuf: encoding: %s\n", vsmr_errmsg());
            rc = 1;
        } else {
            rc = write_file(path, buf, out);
        }
        free(buf);
    }
    for (size_t i = 0; i < h.n; i++)
        free((void *)h.f[i].data);
    return rc;
}

struct relay {
    struct vsmr_netinj *inj;
    size_t frames, failed;
};

/* Each frame goes through the entry codec, as it would through the log,
 * and back into the vif (what the primary does once an entry commits). */
static void relay_one(void *arg, const struct vsmr_netio_frame *f)
{
    struct relay *r = arg;
    static uint8_t buf[VSMR_NETIO_FRAME_MAX + 64];
    struct vsmr_netio_frame back;
    size_t len, n;
    uint16_t t = (uint16_t)(f->data[12] << 8 | f->data[13]);
    printf("frame %zu len %u proto 0x%04x %s\n", r->frames, f->len, t,
           proto_name(t));
    fflush(stdout);
    r->frames++;
    int err = vsmr_netio_entry_encode(f, 1, buf, sizeof buf, &len);
    if (err >= 0)
        err = vsmr_netio_entry_decode(buf, len, &back, 1, &n);
    for (int tries = 0; err >= 0 && tries < 100; tries++) {
        err = vsmr_netinj_send(r->inj, &back);
        if (err != VSMR_EAGAIN)
            break;
        usleep(1000);
    }
    if (err < 0) {
        r->failed++;
        fprintf(stderr, "vsmr-netbuf: relay: %s\n", vsmr_errmsg());
    }
}

int netbuf_cmd_relay(const char *vif, int argc, char **argv)
{
    long timeout = argc == 2 && !strcmp(argv[0], "--timeout")
                       ? strtol(argv[1], NULL, 10) : 5000;
    if (argc != 0 && argc != 2) {
        fprintf(stderr, "vsmr-netbuf: relay VIF [--timeout MS]\n");
        return 2;
    }
    struct vsmr_netcap *cap = NULL;
    struct relay r = {0};
    int err = vsmr_netcap_open(vif, 0, &cap);
    if (err >= 0)
        err = vsmr_netinj_open(vif, &r.inj);
    if (err < 0) {
        fprintf(stderr, "vsmr-netbuf: relay %s: %s\n", vif, vsmr_errmsg());
        vsmr_netcap_close(cap);
        return 1;
    }
    printf("relaying %s ready\n", vif);
    fflush(stdout);
    int64_t end = now_ms() + timeout;
    for (int64_t left; (left = end - now_ms()) > 0;) {
        struct pollfd pfd = {.fd = vsmr_netcap_fd(cap), .events = POLLIN};
        poll(&pfd, 1, (int)(left < 50 ? left : 50));
        vsmr_netcap_drain(cap, relay_one, &r, 0);
    }
    printf("relayed %zu frames, %zu failed\n", r.frames, r.failed);
    vsmr_netinj_close(r.inj);
    vsmr_netcap_close(cap);
    return r.failed ? 1 : 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap || cap >= (64u << 20))
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(fp);
    *len = n;
    return buf;
}

int netbuf_cmd_inject(const char *vif, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "vsmr-netbuf: inject VIF FILE\n");
        return 2;
    }
    size_t len;
    uint8_t *buf = read_file(argv[0], &len);
    if (!buf) {
        fprintf(stderr, "vsmr-netbuf: reading %s: %s\n", argv[0],
                strerror(errno));
        return 1;
    }
    static struct vsmr_netio_frame f[VSMR_NETIO_ENTRY_MAX_FRAMES];
    size_t n;
    struct vsmr_netinj *inj = NULL;
    int err = vsmr_netio_entry_decode(buf, len, f, VSMR_NETIO_ENTRY_MAX_FRAMES,
                                      &n);
    if (err >= 0)
        err = vsmr_netinj_open(vif, &inj);
    size_t sent = 0;
    for (size_t i = 0; err >= 0 && i < n; i++) {
        for (int tries = 0; tries < 100; tries++) {
            err = vsmr_netinj_send(inj, &f[i]);
            if (err != VSMR_EAGAIN)
                break;
            usleep(1000);
        }
        if (err >= 0)
            sent++;
    }
    if (err < 0)
        fprintf(stderr, "vsmr-netbuf: inject %s: %s\n", vif, vsmr_errmsg());
    printf("injected %zu frames\n", sent);
    vsmr_netinj_close(inj);
    free(buf);
    return err < 0 ? 1 : 0;
}
