/*
 * frame.h - the authenticated frame layer under every byte-stream transport:
 * the hello/auth handshake that derives per-connection keys from the cluster
 * key, and sealing/opening of sequenced frames. Pure functions, no I/O.
 *
 * On the wire (all integers big-endian):
 *   hello  u32 len=48 | "VSMR" | u16 version | u16 flags | u64 cluster id |
 *          u32 node id | u32 reserved(0) | 24-byte random nonce
 *   auth   u32 len=32 | 32-byte keyed BLAKE2b over the transcript
 *   frame  u32 len | u64 seq | body | 16-byte tag     (len = 8 + body + 16)
 * With encryption on the body is AEAD ciphertext (AES-256-GCM or
 * ChaCha20-Poly1305 IETF, named by the hello flags), the tag its
 * authentication tag; off, the body is plaintext and the tag a keyed
 * BLAKE2b MAC. Either way the header is authenticated and the sequence
 * number must be exactly the next one expected (replay/reorder = reset).
 */
#ifndef VSMR_TRANSPORT_FRAME_H
#define VSMR_TRANSPORT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "transport/transport.h"
#include "vsmr/vsmr.h"

#define VSMR_FRAME_PROTO_VERSION 1u
#define VSMR_FRAME_KEY_LEN       32u
#define VSMR_FRAME_NONCE_LEN     24u
#define VSMR_FRAME_LEN_FIELD     4u
#define VSMR_HELLO_BODY_LEN      48u
#define VSMR_HELLO_WIRE_LEN      (VSMR_FRAME_LEN_FIELD + VSMR_HELLO_BODY_LEN)
#define VSMR_AUTH_BODY_LEN       32u
#define VSMR_AUTH_WIRE_LEN       (VSMR_FRAME_LEN_FIELD + VSMR_AUTH_BODY_LEN)
#define VSMR_FRAME_HDR_LEN       12u   /* u32 len + u64 seq */
#define VSMR_FRAME_TAG_LEN       16u
#define VSMR_FRAME_OVERHEAD      (VSMR_FRAME_HDR_LEN + VSMR_FRAME_TAG_LEN)
/* Upper bound any build accepts for one frame body (a frame may carry a
 * batch of guest pages later); transports configure a smaller limit. */
#define VSMR_FRAME_BODY_HARD_MAX (64u << 20)

/* Hello flags: 0 = MAC only, ENCRYPT = ChaCha20-Poly1305 (what version 1
 * always meant), ENCRYPT|AES = AES-256-GCM; AES alone is refused. */
#define VSMR_HELLO_FLAG_ENCRYPT  0x0001u
#define VSMR_HELLO_FLAG_AES      0x0002u

struct vsmr_hello {
    uint16_t version;
    uint16_t flags;
    uint64_t cluster_id;
    uint32_t node_id;
    uint8_t nonce[VSMR_FRAME_NONCE_LEN];
};

/* Keys and counters of one authenticated connection, one per side. */
struct vsmr_session {
    uint8_t tx_key[VSMR_FRAME_KEY_LEN];
    uint8_t rx_key[VSMR_FRAME_KEY_LEN];
    uint8_t auth_key[VSMR_FRAME_KEY_LEN];
    uint8_t transcript[32];
    uint64_t tx_seq;
    uint64_t rx_seq;
    enum vsmr_cipher cipher;   /* never AUTO */
    bool is_dialer;
    /* AES-256-GCM only: both keys expanded once per connection. */
    crypto_aead_aes256gcm_state tx_aes, rx_aes;
};

/* Fills a hello for this node with a fresh random nonce; cipher is a
 * resolved one (AUTO is resolved here as vsmr_cipher_resolve would). */
void vsmr_hello_init(struct vsmr_hello *h, uint64_t cluster_id,
                     uint32_t node_id, enum vsmr_cipher cipher);
/* Writes the hello with its length prefix: VSMR_HELLO_WIRE_LEN bytes. */
void vsmr_hello_encode(const struct vsmr_hello *h,
                       uint8_t out[VSMR_HELLO_WIRE_LEN]);
/* Parses a hello with its length prefix; VSMR_EPROTO if malformed
 * (wrong length, magic, version or reserved bits). */
int vsmr_hello_decode(const uint8_t *buf, size_t len, struct vsmr_hello *h);

/* Derives the session keys once both hellos are known. Both sides call it
 * with the same (dialer, acceptor) pair; is_dialer picks the direction.
 * VSMR_EAUTH if the two hellos name different ciphers (the message names
 * both) or AES-256-GCM is named on a CPU without it. */
int vsmr_session_derive(struct vsmr_session *s,
                        const uint8_t cluster_key[VSMR_FRAME_KEY_LEN],
                        const struct vsmr_hello *dialer,
                        const struct vsmr_hello *acceptor, bool is_dialer);
/* Writes this side's proof of the key, with its length prefix. */
void vsmr_session_auth_encode(const struct vsmr_session *s,
                              uint8_t out[VSMR_AUTH_WIRE_LEN]);
/* Checks the peer's proof (length prefix included); VSMR_EAUTH if wrong. */
int vsmr_session_auth_check(const struct vsmr_session *s,
                            const uint8_t *buf, size_t len);
/* Forgets every key (called on close). */
void vsmr_session_wipe(struct vsmr_session *s);

/*
 * Seals a frame in place: the caller has written body_len bytes at
 * frame + VSMR_FRAME_HDR_LEN and left VSMR_FRAME_TAG_LEN bytes after them.
 * Writes the header and tag; returns the frame length, or a negative code.
 */
long vsmr_frame_seal(struct vsmr_session *s, uint8_t *frame,
                     size_t body_len);
/*
 * Looks at the first bytes of a received frame. Returns 0 and sets
 * *frame_len when the header is complete; VSMR_EAGAIN if fewer than
 * VSMR_FRAME_HDR_LEN bytes are available; VSMR_EPROTO if the length is
 * shorter than a tag or its body longer than max_body (checked before the
 * caller allocates anything).
 */
int vsmr_frame_peek(const uint8_t *buf, size_t avail, size_t max_body,
                    size_t *frame_len);
/*
 * Authenticates (and decrypts, in place) one complete frame of frame_len
 * bytes. On success *body points into frame. VSMR_EAUTH if the tag is
 * wrong, VSMR_EPROTO if the sequence is not the next one expected.
 */
int vsmr_frame_open(struct vsmr_session *s, uint8_t *frame, size_t frame_len,
                    uint8_t **body, size_t *body_len);

#endif
