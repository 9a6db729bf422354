/*
 * fuzz_wire_log.c - libFuzzer target for every wire decoder: the frame
 * header and the log messages. Whatever decodes must re-encode to the
 * same bytes (the format has one encoding per message).
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static struct vsmr_entry ents[VSMR_LOG_MAX_MSG_ENTRIES];
static uint8_t again[VSMR_WIRE_MAX_FRAME];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsmr_wire_header h;
    if (vsmr_wire_header_decode(data, size, &h) == 0 &&
        h.length > VSMR_WIRE_MAX_FRAME - VSMR_WIRE_HEADER_SIZE)
        abort();
    struct vsmr_msg m;
    if (vsmr_wire_log_decode(data, size, &m, ents,
                             VSMR_LOG_MAX_MSG_ENTRIES) != 0)
        return 0;
    size_t len = 0;
    if (vsmr_wire_log_encode(&m, again, sizeof again, &len) != 0 ||
        len != size || memcmp(again, data, size) != 0)
        abort();   /* decoded but does not round-trip */
    return 0;
}
