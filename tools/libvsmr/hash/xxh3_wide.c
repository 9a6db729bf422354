/*
 * xxh3_wide.c - XXH3-128 compiled for AVX2 and AVX-512 (this file gets
 * -mavx2 / -mavx512f from the Makefile), chosen at run time by hash.c.
 *
 * Debian's libxxhash.so is built for baseline x86-64 (SSE2), which leaves
 * hashing at about half the speed of a plain memory read; xxhash.h's
 * header-only mode with a wider vector unit closes the gap. XXH3's output
 * is defined bit for bit whatever the vector width, so replicas on
 * different CPUs still agree (test_hash checks against libxxhash).
 */
#include "hash/xxh3_wide.h"

#if defined(__AVX2__) && !defined(VSMR_HASH_PORTABLE)
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#define XXH_NAMESPACE vsmr_avx2_
#include <xxhash.h>

vsmr_page_hash vsmr_xxh3_page_avx2(const void *page)
{
    XXH128_hash_t h = XXH3_128bits(page, VSMR_PAGE_SIZE);
    return (vsmr_page_hash){h.low64, h.high64};
}
int vsmr_xxh3_have_avx2 = 1;
#else
vsmr_page_hash vsmr_xxh3_page_avx2(const void *page)
{
    (void)page;
    return (vsmr_page_hash){0, 0};
}
int vsmr_xxh3_have_avx2 = 0;
#endif
