/*
 * frame_crypto.c - handshake and frame sealing with libsodium: key
 * derivation from the cluster key and both hello nonces, the key proofs,
 * and AEAD or MAC framing with strict sequence numbers. No I/O here.
 */
#include <string.h>

#include <sodium.h>

#include "common/bytes.h"
#include "common/err.h"
#include "transport/frame.h"

static const uint8_t hello_magic[4] = {'V', 'S', 'M', 'R'};

int vsmr_cipher_resolve(enum vsmr_cipher want, enum vsmr_cipher *out)
{
    bool aes = crypto_aead_aes256gcm_is_available() != 0;
    switch (want) {
    case VSMR_CIPHER_OFF:
    case VSMR_CIPHER_CHACHA20POLY1305:
        *out = want;
        return VSMR_OK;
    case VSMR_CIPHER_AES256GCM:
        if (!aes)
            return vsmr_fail(VSMR_EINVAL, "encrypt = aes256gcm, but this "
                             "CPU lacks AES-NI/PCLMUL: use encrypt = "
                             "chacha20poly1305 on every node");
        *out = want;
        return VSMR_OK;
    case VSMR_CIPHER_AUTO:
        *out = aes ? VSMR_CIPHER_AES256GCM : VSMR_CIPHER_CHACHA20POLY1305;
        return VSMR_OK;
    }
    return vsmr_fail(VSMR_EINVAL, "unknown cipher %d", (int)want);
}

const char *vsmr_cipher_name(enum vsmr_cipher c)
{
    switch (c) {
    case VSMR_CIPHER_OFF: return "off";
    case VSMR_CIPHER_CHACHA20POLY1305: return "chacha20poly1305";
    case VSMR_CIPHER_AES256GCM: return "aes256gcm";
    case VSMR_CIPHER_AUTO: return "on";
    }
    return "unknown";
}

static uint16_t cipher_flags(enum vsmr_cipher c)
{
    if (c == VSMR_CIPHER_AES256GCM)
        return VSMR_HELLO_FLAG_ENCRYPT | VSMR_HELLO_FLAG_AES;
    return c == VSMR_CIPHER_CHACHA20POLY1305 ? VSMR_HELLO_FLAG_ENCRYPT : 0;
}

static enum vsmr_cipher flags_cipher(uint16_t flags)
{
    if (!(flags & VSMR_HELLO_FLAG_ENCRYPT))
        return VSMR_CIPHER_OFF;
    return flags & VSMR_HELLO_FLAG_AES ? VSMR_CIPHER_AES256GCM
                                       : VSMR_CIPHER_CHACHA20POLY1305;
}

void vsmr_hello_init(struct vsmr_hello *h, uint64_t cluster_id,
                     uint32_t node_id, enum vsmr_cipher cipher)
{
    memset(h, 0, sizeof *h);
    h->version = VSMR_FRAME_PROTO_VERSION;
    if (cipher == VSMR_CIPHER_AUTO)
        vsmr_cipher_resolve(cipher, &cipher);   /* AUTO cannot fail */
    h->flags = cipher_flags(cipher);
    h->cluster_id = cluster_id;
    h->node_id = node_id;
    randombytes_buf(h->nonce, sizeof h->nonce);
}

void vsmr_hello_encode(const struct vsmr_hello *h,
                       uint8_t out[VSMR_HELLO_WIRE_LEN])
{
    uint8_t *b = out + VSMR_FRAME_LEN_FIELD;
    put_be32(out, VSMR_HELLO_BODY_LEN);
    memcpy(b, hello_magic, 4);
    put_be16(b + 4, h->version);
    put_be16(b + 6, h->flags);
    put_be64(b + 8, h->cluster_id);
    put_be32(b + 16, h->node_id);
    put_be32(b + 20, 0);
    memcpy(b + 24, h->nonce, VSMR_FRAME_NONCE_LEN);
}

int vsmr_hello_decode(const uint8_t *buf, size_t len, struct vsmr_hello *h)
{
    if (len != VSMR_HELLO_WIRE_LEN)
        return vsmr_fail(VSMR_EPROTO, "hello of %zu bytes, expected %u",
                         len, VSMR_HELLO_WIRE_LEN);
    if (get_be32(buf) != VSMR_HELLO_BODY_LEN)
        return vsmr_fail(VSMR_EPROTO, "hello length field %u, expected %u",
                         get_be32(buf), VSMR_HELLO_BODY_LEN);
    const uint8_t *b = buf + VSMR_FRAME_LEN_FIELD;
    if (memcmp(b, hello_magic, 4) != 0)
        return vsmr_fail(VSMR_EPROTO, "hello without the VSMR magic");
    h->version = get_be16(b + 4);
    h->flags = get_be16(b + 6);
    h->cluster_id = get_be64(b + 8);
    h->node_id = get_be32(b + 16);
    if (h->version != VSMR_FRAME_PROTO_VERSION)
        return vsmr_fail(VSMR_EPROTO, "hello of protocol version %u, this "
                         "build speaks %u", h->version,
                         VSMR_FRAME_PROTO_VERSION);
    uint16_t known = VSMR_HELLO_FLAG_ENCRYPT | VSMR_HELLO_FLAG_AES;
    if ((h->flags & ~known) || h->flags == VSMR_HELLO_FLAG_AES ||
        get_be32(b + 20) != 0)
        return vsmr_fail(VSMR_EPROTO, "hello with unknown flags 0x%x",
                         h->flags);
    memcpy(h->nonce, b + 24, VSMR_FRAME_NONCE_LEN);
    return VSMR_OK;
}

/* out = BLAKE2b-256 keyed with key over label || data. */
static void keyed_hash(uint8_t out[32], const uint8_t key[32],
                       const char *label, const uint8_t *data, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

int vsmr_session_derive(struct vsmr_session *s,
                        const uint8_t cluster_key[VSMR_FRAME_KEY_LEN],
                        const struct vsmr_hello *dialer,
                        const struct vsmr_hello *acceptor, bool is_dialer)
{
    enum vsmr_cipher cd = flags_cipher(dialer->flags);
    enum vsmr_cipher ca = flags_cipher(acceptor->flags);
    if (cd != ca)
        return vsmr_fail(VSMR_EAUTH, "encryption setting differs: node %u "
                         "uses %s, node %u uses %s; set the same encrypt "
                         "value on every node (chacha20poly1305 where some "
                         "CPUs lack AES-NI)", dialer->node_id,
                         vsmr_cipher_name(cd), acceptor->node_id,
                         vsmr_cipher_name(ca));
    if (cd == VSMR_CIPHER_AES256GCM && !crypto_aead_aes256gcm_is_available())
        return vsmr_fail(VSMR_EAUTH, "aes256gcm agreed, but this CPU lacks "
                         "AES-NI/PCLMUL");
    if (sodium_memcmp(dialer->nonce, acceptor->nonce,
                      VSMR_FRAME_NONCE_LEN) == 0)
        return vsmr_fail(VSMR_EAUTH, "peer echoed our own nonce");
    uint8_t both[2 * VSMR_HELLO_WIRE_LEN];
    vsmr_hello_encode(dialer, both);
    vsmr_hello_encode(acceptor, both + VSMR_HELLO_WIRE_LEN);

    memset(s, 0, sizeof *s);
    s->is_dialer = is_dialer;
    s->cipher = cd;
    keyed_hash(s->transcript, cluster_key, "vsmr-transcript-v1", both,
               sizeof both);
    uint8_t d2a[32], a2d[32];
    keyed_hash(d2a, cluster_key, "vsmr-key-dialer-to-acceptor",
               s->transcript, 32);
    keyed_hash(a2d, cluster_key, "vsmr-key-acceptor-to-dialer",
               s->transcript, 32);
    keyed_hash(s->auth_key, cluster_key, "vsmr-key-auth", s->transcript, 32);
    memcpy(s->tx_key, is_dialer ? d2a : a2d, 32);
    memcpy(s->rx_key, is_dialer ? a2d : d2a, 32);
    if (cd == VSMR_CIPHER_AES256GCM) {
        crypto_aead_aes256gcm_beforenm(&s->tx_aes, s->tx_key);
        crypto_aead_aes256gcm_beforenm(&s->rx_aes, s->rx_key);
    }
    sodium_memzero(d2a, sizeof d2a);
    sodium_memzero(a2d, sizeof a2d);
    return VSMR_OK;
}

/* The proof names the role so one side's proof never passes as the
 * other's (a reflected auth message fails). */
static void auth_proof(const struct vsmr_session *s, bool from_dialer,
                       uint8_t out[32])
{
    keyed_hash(out, s->auth_key, from_dialer ? "vsmr-proof-dialer"
                                             : "vsmr-proof-acceptor",
               s->transcript, 32);
}

void vsmr_session_auth_encode(const struct vsmr_session *s,
                              uint8_t out[VSMR_AUTH_WIRE_LEN])
{
    put_be32(out, VSMR_AUTH_BODY_LEN);
    auth_proof(s, s->is_dialer, out + VSMR_FRAME_LEN_FIELD);
}

int vsmr_session_auth_check(const struct vsmr_session *s,
                            const uint8_t *buf, size_t len)
{
    if (len != VSMR_AUTH_WIRE_LEN || get_be32(buf) != VSMR_AUTH_BODY_LEN)
        return vsmr_fail(VSMR_EPROTO, "key proof of wrong length");
    uint8_t want[32];
    auth_proof(s, !s->is_dialer, want);
    int bad = sodium_memcmp(want, buf + VSMR_FRAME_LEN_FIELD, 32);
    sodium_memzero(want, sizeof want);
    if (bad)
        return vsmr_fail(VSMR_EAUTH, "key proof does not match: the peer "
                         "has a different cluster key");
    return VSMR_OK;
}

void vsmr_session_wipe(struct vsmr_session *s)
{
    sodium_memzero(s, sizeof *s);
}

/* The AEAD nonce is the frame's sequence number. It never repeats under
 * one key: each direction of each connection has its own key (derived
 * from both sides' fresh random hello nonces), the sequence starts at 0
 * and only grows, and sealing stops before it wraps. Both AEADs take the
 * same 96-bit nonce, and a key is only ever used with one of them. */
static void seq_nonce(uint8_t nonce[12], uint64_t seq)
{
    memset(nonce, 0, 4);
    put_be64(nonce + 4, seq);
}

/* Keyed BLAKE2b over header and body: the MAC of plaintext frames. */
static void plain_mac(const uint8_t key[32], const uint8_t *frame,
                      size_t covered, uint8_t tag[VSMR_FRAME_TAG_LEN])
{
    crypto_generichash(tag, VSMR_FRAME_TAG_LEN, frame, covered, key, 32);
}

long vsmr_frame_seal(struct vsmr_session *s, uint8_t *frame,
                     size_t body_len)
{
    if (body_len > VSMR_FRAME_BODY_HARD_MAX)
        return vsmr_fail(VSMR_ERANGE, "frame body of %zu bytes", body_len);
    if (s->tx_seq == UINT64_MAX)
        return vsmr_fail(VSMR_ESTATE, "sequence numbers exhausted");
    size_t total = VSMR_FRAME_OVERHEAD + body_len;
    put_be32(frame, (uint32_t)(total - VSMR_FRAME_LEN_FIELD));
    put_be64(frame + 4, s->tx_seq);
    uint8_t *body = frame + VSMR_FRAME_HDR_LEN;
    uint8_t *tag = body + body_len;
    uint8_t nonce[12];
    seq_nonce(nonce, s->tx_seq);
    if (s->cipher == VSMR_CIPHER_AES256GCM) {
        crypto_aead_aes256gcm_encrypt_detached_afternm(
            body, tag, NULL, body, body_len, frame, VSMR_FRAME_HDR_LEN,
            NULL, nonce, &s->tx_aes);
    } else if (s->cipher == VSMR_CIPHER_CHACHA20POLY1305) {
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            body, tag, NULL, body, body_len, frame, VSMR_FRAME_HDR_LEN,
            NULL, nonce, s->tx_key);
    } else {
        plain_mac(s->tx_key, frame, VSMR_FRAME_HDR_LEN + body_len, tag);
    }
    s->tx_seq++;
    return (long)total;
}

int vsmr_frame_peek(const uint8_t *buf, size_t avail, size_t max_body,
                    size_t *frame_len)
{
    if (avail < VSMR_FRAME_HDR_LEN)
        return VSMR_EAGAIN;
    uint32_t len = get_be32(buf);
    if (len < VSMR_FRAME_OVERHEAD - VSMR_FRAME_LEN_FIELD)
        return vsmr_fail(VSMR_EPROTO, "frame length %u is shorter than "
                         "its header and tag", len);
    size_t body = (size_t)len - (VSMR_FRAME_OVERHEAD - VSMR_FRAME_LEN_FIELD);
    if (body > max_body || body > VSMR_FRAME_BODY_HARD_MAX)
        return vsmr_fail(VSMR_EPROTO, "frame body of %zu bytes exceeds the "
                         "limit of %zu", body, max_body);
    *frame_len = (size_t)len + VSMR_FRAME_LEN_FIELD;
    return VSMR_OK;
}

int vsmr_frame_open(struct vsmr_session *s, uint8_t *frame, size_t frame_len,
                    uint8_t **body, size_t *body_len)
{
    size_t want;
    int rc = vsmr_frame_peek(frame, frame_len, VSMR_FRAME_BODY_HARD_MAX,
                             &want);
    if (rc < 0)
        return rc == VSMR_EAGAIN ? vsmr_fail(VSMR_EPROTO, "truncated frame")
                                 : rc;
    if (want != frame_len)
        return vsmr_fail(VSMR_EPROTO, "frame of %zu bytes, header says %zu",
                         frame_len, want);
    size_t blen = frame_len - VSMR_FRAME_OVERHEAD;
    uint8_t *b = frame + VSMR_FRAME_HDR_LEN;
    const uint8_t *tag = b + blen;
    uint64_t seq = get_be64(frame + 4);
    if (s->cipher != VSMR_CIPHER_OFF) {
        uint8_t nonce[12];
        seq_nonce(nonce, seq);
        int bad = s->cipher == VSMR_CIPHER_AES256GCM
            ? crypto_aead_aes256gcm_decrypt_detached_afternm(
                  b, NULL, b, blen, tag, frame, VSMR_FRAME_HDR_LEN, nonce,
                  &s->rx_aes)
            : crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                  b, NULL, b, blen, tag, frame, VSMR_FRAME_HDR_LEN, nonce,
                  s->rx_key);
        if (bad != 0)
            return vsmr_fail(VSMR_EAUTH, "frame %llu fails authentication",
                             (unsigned long long)seq);
    } else {
        uint8_t want_tag[VSMR_FRAME_TAG_LEN];
        plain_mac(s->rx_key, frame, VSMR_FRAME_HDR_LEN + blen, want_tag);
        if (sodium_memcmp(want_tag, tag, VSMR_FRAME_TAG_LEN) != 0)
            return vsmr_fail(VSMR_EAUTH, "frame %llu fails its MAC",
                             (unsigned long long)seq);
    }
    /* Checked after authentication so a forged header cannot make us
     * report a replay; TCP delivers in order, so anything but the next
     * number is a replay, a reorder or an injection. */
    if (seq != s->rx_seq)
        return vsmr_fail(VSMR_EPROTO, "frame sequence %llu, expected %llu "
                         "(replayed or reordered)", (unsigned long long)seq,
                         (unsigned long long)s->rx_seq);
    s->rx_seq++;
    *body = b;
    *body_len = blen;
    return VSMR_OK;
}
