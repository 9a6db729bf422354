/*
 * scan.h - hashing a set of guest pages through the guest interface
 * (XXH3-128 per page, mapped in batches). Frames with no memory behind
 * them (VSMR_ENOENT from map) are retried page by page and counted as holes.
 */
#ifndef VSMR_XC_SCAN_H
#define VSMR_XC_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include "vsmr/guest.h"

/* Frame numbers of the set bits of a bitmap of npages bits; returns count
 * (the caller frees *pfns). */
size_t bitmap_to_pfns(const uint64_t *bm, uint64_t npages, uint64_t **pfns);

/* Hashes pages pfns[0..n); hashes[i] is all-zero for a hole. Returns
 * VSMR_OK and the number of holes in *holes, or an error. */
int hash_pages(vsmr_guest *g, const uint64_t *pfns, size_t n,
               XXH128_hash_t *hashes, size_t *holes);

#endif
