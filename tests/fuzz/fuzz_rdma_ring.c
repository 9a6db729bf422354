/*
 * fuzz_rdma_ring.c - libFuzzer target for what the RDMA transport reads out
 * of its receive ring, which a peer writes directly: the input is laid into
 * a ring (its first bytes choose the head and sequence) and records are
 * checked, authenticated and split into pieces as the transport does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "transport/frame.h"
#include "transport/rdma_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RING 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {3};
    static const struct vsmr_ring_marks m = {0, 0};   /* guessable on
        purpose: the fuzzer must be able to produce "complete" records */
    if (size < 3)
        return 0;
    static uint8_t ring[RING];
    memset(ring, 0, sizeof ring);
    size_t head = ((size_t)data[0] << 8 | data[1]) % RING & ~(size_t)7;
    head = vsmr_ring_place(RING, head);
    uint64_t seq = data[2];
    /* The cipher from the input: MAC only, or the host's AEAD. */
    enum vsmr_cipher cipher = data[0] & 1 ? VSMR_CIPHER_AUTO
                                          : VSMR_CIPHER_OFF;
    data += 3;
    size -= 3;
    memcpy(ring + head, data, size > RING - head ? RING - head : size);
    if (size > RING - head)
        memcpy(ring, data + (RING - head),
               size - (RING - head) > head ? head : size - (RING - head));
    struct vsmr_hello d, a;
    vsmr_hello_init(&d, 1, 1, cipher);
    vsmr_hello_init(&a, 1, 2, cipher);
    struct vsmr_session s;
    if (vsmr_session_derive(&s, key, &d, &a, false) < 0)
        abort();
    for (int i = 0; i < 8; i++) {
        struct vsmr_ring_view v;
        int rc = vsmr_ring_check(ring, RING, head, seq, &m, 4096, &v);
        if (rc != 0)
            break;
        if (v.advance == 0 || v.advance > RING - head)
            abort();
        if (v.kind == VSMR_RING_DATA) {
            if (v.frame < ring + head ||
                v.frame + v.frame_len > ring + head + v.rec_len)
                abort();
            uint8_t *body;
            size_t blen;
            /* also walk the pieces of the unauthenticated body */
            size_t off = 0, n;
            const uint8_t *p;
            bool more;
            uint8_t *raw = v.frame + VSMR_FRAME_HDR_LEN;
            size_t rawlen = v.frame_len - VSMR_FRAME_OVERHEAD;
            while (vsmr_ring_piece_next(raw, rawlen, &off, &p, &n, &more) == 0)
                if (p < raw || p + n > raw + rawlen)
                    abort();
            s.rx_seq = 0;
            (void)vsmr_frame_open(&s, v.frame, v.frame_len, &body, &blen);
        }
        head = vsmr_ring_place(RING, (head + v.advance) % RING);
        seq++;
    }
    return 0;
}
