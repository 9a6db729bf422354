/*
 * fuzz_client_frame.c - libFuzzer target for what vsmr-client does with
 * bytes from a server: frame splitting, response decoding, matching ids,
 * value decoding and the checker. Bad bytes must drop the connection,
 * never crash, and never break the in-flight bookkeeping.
 */
#include <stdint.h>
#include <stdlib.h>

/* The client's modules are not in libvsmr: build them in. */
#include "../../tools/client/checker.c"
#include "../../tools/client/core.c"
#include "../../tools/client/frame.c"
#include "../../tools/client/latency.c"
#include "../../tools/client/response.c"
#include "../../tools/client/value.c"
#include "../../tools/client/workload.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check(const struct client *c)
{
    if (client_inflight(c) > c->cfg.window ||
        c->n.acked + c->n.unknown + client_inflight(c) != c->n.sent)
        abort();
}

/* Keeps the window full, as the driver does before each read. */
static void fz_fill(struct client *c, uint64_t now)
{
    static uint8_t out[16384];
    size_t n, at = 0;
    while ((n = client_issue(c, now, out + at, sizeof out - at)) > 0)
        at += n;
    if (at > sizeof out)
        abort();
}

/* The first byte shapes the run; the rest arrives in chunks as a stream.
 * After a drop the rest of the input is what the next server sends. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct client_cfg cfg = {.keys = 8, .window = 1u + (data[0] & 3),
                             .value_size = VALUE_MIN_SIZE,
                             .write_ratio = 50u + (data[0] >> 4),
                             .seed = data[0], .tag = 0};
    static struct client c;
    if (client_init(&c, &cfg) < 0)
        return 0;
    uint8_t buf[FRAME_MAX_RESPONSE + 256];
    size_t have = 0, off = 1;
    for (uint64_t now = 1; off < size; now++) {
        fz_fill(&c, now);
        size_t chunk = size - off < 97 ? size - off : 97;
        if (chunk > sizeof buf - have)
            chunk = sizeof buf - have;
        memcpy(buf + have, data + off, chunk);
        have += chunk;
        off += chunk;
        size_t used;
        if (client_consume(&c, buf, have, now, &used) == CLIENT_DROP) {
            client_lost(&c);
            have = 0;
        } else {
            if (used > have)
                abort();
            memmove(buf, buf + used, have - used);
            have -= used;
        }
        fz_check(&c);
        if (have == sizeof buf)     /* a frame this long was refused */
            abort();
    }
    client_lost(&c);
    fz_check(&c);
    client_fini(&c);
    return 0;
}
