/*
 * fuzz_frame.c - libFuzzer target for everything the frame layer parses
 * from the network before and after authentication: hellos, key proofs,
 * frame headers and whole frames (sessions with each AEAD and MAC-only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "transport/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_frame(const uint8_t *data, size_t size,
                      enum vsmr_cipher cipher)
{
    static const uint8_t key[32] = {42};
    struct vsmr_hello d, a;
    vsmr_hello_init(&d, 1, 1, cipher);
    vsmr_hello_init(&a, 1, 2, cipher);
    struct vsmr_session s;
    if (vsmr_session_derive(&s, key, &d, &a, false) < 0)
        abort();
    size_t flen;
    if (vsmr_frame_peek(data, size, 1 << 20, &flen) < 0 || flen > size)
        return;
    uint8_t *copy = malloc(flen);
    if (!copy)
        return;
    memcpy(copy, data, flen);
    uint8_t *body;
    size_t blen;
    if (vsmr_frame_open(&s, copy, flen, &body, &blen) == 0 &&
        (body < copy || body + blen > copy + flen))
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = true;
    }
    struct vsmr_hello h;
    if (vsmr_hello_decode(data, size, &h) == 0) {
        uint8_t again[VSMR_HELLO_WIRE_LEN];
        vsmr_hello_encode(&h, again);
        if (memcmp(again, data, sizeof again) != 0)
            abort();   /* decode then encode must give the same bytes */
    }
    struct vsmr_session s;
    struct vsmr_hello d, a;
    static const uint8_t key[32] = {7};
    vsmr_hello_init(&d, 1, 1, VSMR_CIPHER_AUTO);
    vsmr_hello_init(&a, 1, 2, VSMR_CIPHER_AUTO);
    if (vsmr_session_derive(&s, key, &d, &a, true) == 0 &&
        vsmr_session_auth_check(&s, data, size) == 0)
        abort();   /* a random proof must never pass */
    try_frame(data, size, VSMR_CIPHER_CHACHA20POLY1305);
    if (crypto_aead_aes256gcm_is_available())
        try_frame(data, size, VSMR_CIPHER_AES256GCM);
    try_frame(data, size, VSMR_CIPHER_OFF);
    return 0;
}
