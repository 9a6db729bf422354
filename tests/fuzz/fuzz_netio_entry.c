/*
 * fuzz_netio_entry.c - libFuzzer target for the frame entry decoder (log
 * entries carrying input frames arrive from peers): whatever it accepts
 * must lie inside the input and re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vsmr/netio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vsmr_netio_frame f[VSMR_NETIO_ENTRY_MAX_FRAMES];
    size_t n;
    if (vsmr_netio_entry_decode(data, size, f, VSMR_NETIO_ENTRY_MAX_FRAMES,
                                &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].data < data || f[i].data + f[i].len > data + size ||
            f[i].len < VSMR_NETIO_FRAME_MIN)
            abort();
    uint8_t *again = malloc(size);
    size_t len;
    if (!again || vsmr_netio_entry_encode(f, n, again, size, &len) < 0 ||
        len != size || memcmp(again, data, size))
        abort();
    free(again);
    return 0;
}
