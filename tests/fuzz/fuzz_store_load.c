/*
 * fuzz_store_load.c - libFuzzer target for the store's loader: any bytes
 * as the content of dir/log. What loads must be a consistent log (entries
 * consecutive right after the compaction point, inside the valid prefix),
 * the cut must be where parsing stopped, and only zeros may follow it when
 * no damage is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsmr_store_image img;
    if (vsmr_store_parse(data, size, &img) != 0)
        return 0;
    if (img.valid_end > size || img.garbage > size - img.valid_end)
        abort();
    for (size_t i = img.valid_end + img.garbage; i < size; i++)
        if (data[i])
            abort();   /* a non-zero byte was taken for free space */
    if (img.garbage && !data[img.valid_end + img.garbage - 1])
        abort();
    const struct vsmr_log_persisted *p = &img.p;
    if (p->n_entries != img.n_entries || p->applied != p->snap_index)
        abort();
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct vsmr_entry *e = &p->entries[i];
        if (e->index != p->snap_index + 1 + i)
            abort();
        if (e->len && (e->data < data || e->data + e->len > data +
                       img.valid_end))
            abort();
    }
    /* Parsing the valid prefix alone gives the same state, no damage. */
    struct vsmr_store_image again;
    if (vsmr_store_parse(data, img.valid_end, &again) != 0 ||
        again.valid_end != img.valid_end || again.garbage ||
        again.n_entries != img.n_entries ||
        memcmp(&again.p.hs, &img.p.hs, sizeof img.p.hs) != 0)
        abort();
    free(again.entries);
    free(img.entries);
    return 0;
}
