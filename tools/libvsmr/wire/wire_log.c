/*
 * wire_log.c - encoding and decoding of the consensus log's messages
 * (types 0x01-0x08, docs/wire-protocol.md). The decoder checks every
 * length, count, reserved byte and range before it trusts it.
 */
#include <string.h>

#include "common/err.h"
#include "wire/wire.h"
#include "wire/wire_bytes.h"

/* Payload bytes of each message type before any entries. */
static size_t fixed_size(uint8_t type)
{
    switch (type) {
    case VSMR_MSG_APPEND:       return VSMR_WIRE_LOG_COMMON_SIZE + 32;
    case VSMR_MSG_APPEND_RESP:  return VSMR_WIRE_LOG_COMMON_SIZE + 24;
    case VSMR_MSG_VOTE:
    case VSMR_MSG_PREVOTE:
    case VSMR_MSG_SNAPSHOT:     return VSMR_WIRE_LOG_COMMON_SIZE + 16;
    case VSMR_MSG_VOTE_RESP:
    case VSMR_MSG_PREVOTE_RESP:
    case VSMR_MSG_TIMEOUT_NOW:  return VSMR_WIRE_LOG_COMMON_SIZE;
    default:                    return 0;
    }
}

size_t vsmr_wire_log_size(const struct vsmr_msg *m)
{
    size_t n = VSMR_WIRE_HEADER_SIZE + fixed_size(m->type);
    if (m->type == VSMR_MSG_APPEND)
        for (size_t i = 0; i < m->n_entries; i++)
            n += VSMR_WIRE_ENTRY_HDR_SIZE + m->entries[i].len;
    return n;
}

static int check_entry_shape(uint8_t type, uint64_t aux, uint32_t len,
                             size_t i)
{
    if (type > VSMR_ENTRY_TYPE_MAX)
        return vsmr_fail(VSMR_EPROTO, "entry %zu has unknown type %u", i,
                         type);
    if (len > VSMR_LOG_MAX_ENTRY_DATA)
        return vsmr_fail(VSMR_EPROTO, "entry %zu carries %u bytes, more "
                         "than the %u-byte limit", i, len,
                         VSMR_LOG_MAX_ENTRY_DATA);
    if (type != VSMR_ENTRY_NORMAL && len != 0)
        return vsmr_fail(VSMR_EPROTO, "entry %zu of type %u carries data",
                         i, type);
    if (!vsmr_entry_has_aux(type) && aux != 0)
        return vsmr_fail(VSMR_EPROTO, "entry %zu of type %u has aux set",
                         i, type);
    return VSMR_OK;
}

static int check_encodable(const struct vsmr_msg *m)
{
    if (!fixed_size(m->type))
        return vsmr_fail(VSMR_EINVAL, "message type %u is not a log "
                         "message", m->type);
    if (m->from == 0 || m->from > 255 || m->to == 0 || m->to > 255)
        return vsmr_fail(VSMR_EINVAL, "replica ids %u -> %u do not fit",
                         m->from, m->to);
    if (m->type != VSMR_MSG_APPEND)
        return VSMR_OK;
    if (m->n_entries > VSMR_LOG_MAX_MSG_ENTRIES)
        return vsmr_fail(VSMR_EINVAL, "%zu entries exceed the limit of %u",
                         m->n_entries, VSMR_LOG_MAX_MSG_ENTRIES);
    size_t bytes = 0;
    for (size_t i = 0; i < m->n_entries; i++) {
        const struct vsmr_entry *e = &m->entries[i];
        int rc = check_entry_shape(e->type, e->aux, e->len, i);
        if (rc)
            return VSMR_EINVAL;  /* the message names the entry */
        bytes += e->len;
    }
    if (bytes > VSMR_LOG_MAX_MSG_BYTES)
        return vsmr_fail(VSMR_EINVAL, "%zu bytes of entries exceed the "
                         "limit of %u", bytes, VSMR_LOG_MAX_MSG_BYTES);
    return VSMR_OK;
}

static uint8_t *encode_common(const struct vsmr_msg *m, uint8_t *p)
{
    p[0] = (uint8_t)m->from;
    p[1] = (uint8_t)m->to;
    p[2] = m->flags;
    memset(p + 3, 0, 5);
    put_le64(p + 8, m->term);
    return p + VSMR_WIRE_LOG_COMMON_SIZE;
}

static uint8_t *encode_entries(const struct vsmr_msg *m, uint8_t *p)
{
    for (size_t i = 0; i < m->n_entries; i++) {
        const struct vsmr_entry *e = &m->entries[i];
        put_le64(p, e->term);
        put_le64(p + 8, e->aux);
        p[16] = e->type;
        memset(p + 17, 0, 3);
        put_le32(p + 20, e->len);
        p += VSMR_WIRE_ENTRY_HDR_SIZE;
        if (e->len)
            memcpy(p, e->data, e->len);
        p += e->len;
    }
    return p;
}

static void encode_body(const struct vsmr_msg *m, uint8_t *p)
{
    switch (m->type) {
    case VSMR_MSG_APPEND:
        put_le64(p, m->index);
        put_le64(p + 8, m->log_term);
        put_le64(p + 16, m->commit);
        put_le32(p + 24, (uint32_t)m->n_entries);
        put_le32(p + 28, 0);
        encode_entries(m, p + 32);
        break;
    case VSMR_MSG_APPEND_RESP:
        put_le64(p, m->index);
        put_le64(p + 8, m->hint);
        put_le64(p + 16, m->log_term);
        break;
    case VSMR_MSG_VOTE:
    case VSMR_MSG_PREVOTE:
    case VSMR_MSG_SNAPSHOT:
        put_le64(p, m->index);
        put_le64(p + 8, m->log_term);
        break;
    default:
        break;
    }
}

int vsmr_wire_log_encode(const struct vsmr_msg *m, uint8_t *buf, size_t cap,
                         size_t *written)
{
    int rc = check_encodable(m);
    if (rc)
        return rc;
    size_t need = vsmr_wire_log_size(m);
    if (need > VSMR_WIRE_MAX_FRAME)
        return vsmr_fail(VSMR_EINVAL, "message of %zu bytes exceeds the "
                         "frame limit", need);
    if (need > cap)
        return vsmr_fail(VSMR_ERANGE, "message needs %zu bytes, buffer has "
                         "%zu", need, cap);
    vsmr_wire_header_encode(buf, m->type,
                            (uint32_t)(need - VSMR_WIRE_HEADER_SIZE));
    encode_body(m, encode_common(m, buf + VSMR_WIRE_HEADER_SIZE));
    *written = need;
    return VSMR_OK;
}

/* --- decoding ------------------------------------------------------- */

static int check_index(const char *what, uint64_t v)
{
    if (v > VSMR_LOG_MAX_INDEX)
        return vsmr_fail(VSMR_EPROTO, "%s %llu is out of range", what,
                         (unsigned long long)v);
    return VSMR_OK;
}

static int decode_common(struct wire_reader *r, struct vsmr_msg *m)
{
    const uint8_t *p = wire_take(r, VSMR_WIRE_LOG_COMMON_SIZE);
    if (!p)
        return vsmr_fail(VSMR_EPROTO, "log message shorter than its "
                         "%u-byte common part", VSMR_WIRE_LOG_COMMON_SIZE);
    m->from = p[0];
    m->to = p[1];
    m->flags = p[2];
    m->term = get_le64(p + 8);
    if (!all_zero(p + 3, 5))
        return vsmr_fail(VSMR_EPROTO, "log message reserved bytes not 0");
    if (m->from == 0 || m->from > VSMR_LOG_MAX_NODES || m->to == 0 ||
        m->to > VSMR_LOG_MAX_NODES)
        return vsmr_fail(VSMR_EPROTO, "replica ids %u -> %u out of range "
                         "1..%u", m->from, m->to, VSMR_LOG_MAX_NODES);
    if (m->flags & ~(VSMR_MSG_F_REJECT | VSMR_MSG_F_TRANSFER))
        return vsmr_fail(VSMR_EPROTO, "unknown flags 0x%02x", m->flags);
    return check_index("term", m->term);
}

static int decode_entry(struct wire_reader *r, struct vsmr_entry *e,
                        size_t i, size_t *bytes)
{
    const uint8_t *p = wire_take(r, VSMR_WIRE_ENTRY_HDR_SIZE);
    if (!p)
        return vsmr_fail(VSMR_EPROTO, "entry %zu header is truncated", i);
    e->term = get_le64(p);
    e->aux = get_le64(p + 8);
    e->type = p[16];
    e->len = get_le32(p + 20);
    if (!all_zero(p + 17, 3))
        return vsmr_fail(VSMR_EPROTO, "entry %zu reserved bytes not 0", i);
    int rc = check_entry_shape(e->type, e->aux, e->len, i);
    if (rc || (rc = check_index("entry term", e->term)))
        return rc;
    *bytes += e->len;
    if (*bytes > VSMR_LOG_MAX_MSG_BYTES)
        return vsmr_fail(VSMR_EPROTO, "entries exceed %u bytes in total",
                         VSMR_LOG_MAX_MSG_BYTES);
    e->data = e->len ? wire_take(r, e->len) : NULL;
    if (e->len && !e->data)
        return vsmr_fail(VSMR_EPROTO, "entry %zu data (%u bytes) is "
                         "truncated", i, e->len);
    return VSMR_OK;
}

static int decode_append(struct wire_reader *r, struct vsmr_msg *m,
                         struct vsmr_entry *ents, size_t max_ents)
{
    const uint8_t *p = wire_take(r, 32);
    if (!p)
        return vsmr_fail(VSMR_EPROTO, "APPEND fixed part is truncated");
    m->index = get_le64(p);
    m->log_term = get_le64(p + 8);
    m->commit = get_le64(p + 16);
    uint32_t n = get_le32(p + 24);
    if (get_le32(p + 28) != 0)
        return vsmr_fail(VSMR_EPROTO, "APPEND reserved field not 0");
    if (n > VSMR_LOG_MAX_MSG_ENTRIES || n > max_ents)
        return vsmr_fail(VSMR_EPROTO, "APPEND claims %u entries; the limit "
                         "is %u", n, VSMR_LOG_MAX_MSG_ENTRIES);
    int rc = check_index("prev index", m->index);
    if (rc || (rc = check_index("commit", m->commit)) ||
        (rc = check_index("prev term", m->log_term)))
        return rc;
    if (m->index > VSMR_LOG_MAX_INDEX - n)
        return vsmr_fail(VSMR_EPROTO, "APPEND entries run past the index "
                         "limit");
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        ents[i].index = m->index + 1 + i;
        if ((rc = decode_entry(r, &ents[i], i, &bytes)))
            return rc;
    }
    m->entries = n ? ents : NULL;
    m->n_entries = n;
    return VSMR_OK;
}

static int decode_body(struct wire_reader *r, struct vsmr_msg *m,
                       struct vsmr_entry *ents, size_t max_ents)
{
    const uint8_t *p;
    switch (m->type) {
    case VSMR_MSG_APPEND:
        return decode_append(r, m, ents, max_ents);
    case VSMR_MSG_APPEND_RESP:
        if (!(p = wire_take(r, 24)))
            return vsmr_fail(VSMR_EPROTO, "APPEND_RESP is truncated");
        m->index = get_le64(p);
        m->hint = get_le64(p + 8);
        m->log_term = get_le64(p + 16);
        break;
    case VSMR_MSG_VOTE:
    case VSMR_MSG_PREVOTE:
    case VSMR_MSG_SNAPSHOT:
        if (!(p = wire_take(r, 16)))
            return vsmr_fail(VSMR_EPROTO, "message type %u is truncated",
                             m->type);
        m->index = get_le64(p);
        m->log_term = get_le64(p + 8);
        break;
    default:
        return VSMR_OK;
    }
    int rc = check_index("index", m->index);
    if (rc || (rc = check_index("hint", m->hint)))
        return rc;
    return check_index("log term", m->log_term);
}

int vsmr_wire_log_decode(const uint8_t *buf, size_t len, struct vsmr_msg *m,
                         struct vsmr_entry *ents, size_t max_ents)
{
    struct vsmr_wire_header h;
    int rc = vsmr_wire_header_decode(buf, len, &h);
    if (rc)
        return rc;
    if (h.type < VSMR_MSG_TYPE_MIN || h.type > VSMR_MSG_TYPE_MAX)
        return vsmr_fail(VSMR_EPROTO, "frame type 0x%04x is not a log "
                         "message", h.type);
    if ((size_t)h.length != len - VSMR_WIRE_HEADER_SIZE)
        return vsmr_fail(VSMR_EPROTO, "frame says %u payload bytes, got "
                         "%zu", h.length, len - VSMR_WIRE_HEADER_SIZE);
    memset(m, 0, sizeof *m);
    m->type = (uint8_t)h.type;
    struct wire_reader r = {buf + VSMR_WIRE_HEADER_SIZE, h.length};
    if ((rc = decode_common(&r, m)) || (rc = decode_body(&r, m, ents,
                                                         max_ents)))
        return rc;
    if (r.left != 0)
        return vsmr_fail(VSMR_EPROTO, "%zu trailing bytes after message "
                         "type %u", r.left, m->type);
    return VSMR_OK;
}
