/*
 * fuzz_wire_sync.c - libFuzzer target: the sync/pages decoder must reject
 * malformed frames and never read out of bounds; what it accepts must
 * re-encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsmr_wire_sync m;
    if (vsmr_wire_sync_decode(data, size, &m) != 0)
        return 0;
    uint8_t *out = malloc(size);
    size_t n = 0;
    if (!out)
        return 0;
    if (vsmr_wire_sync_encode(&m, out, size, &n) != 0 || n != size ||
        memcmp(out, data, size) != 0)
        abort();
    free(out);
    return 0;
}
