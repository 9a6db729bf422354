/*
 * xxh3_avx512.c - XXH3-128 compiled for AVX-512 (this file gets -mavx512f
 * from the Makefile); hash.c picks it when the CPU has AVX-512F. Same
 * hashes as every other width (see xxh3_wide.c).
 */
#include "hash/xxh3_wide.h"

#if defined(__AVX512F__) && !defined(VSMR_HASH_PORTABLE)
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX512
#define XXH_NAMESPACE vsmr_avx512_
#include <xxhash.h>

vsmr_page_hash vsmr_xxh3_page_avx512(const void *page)
{
    XXH128_hash_t h = XXH3_128bits(page, VSMR_PAGE_SIZE);
    return (vsmr_page_hash){h.low64, h.high64};
}
int vsmr_xxh3_have_avx512 = 1;
#else
vsmr_page_hash vsmr_xxh3_page_avx512(const void *page)
{
    (void)page;
    return (vsmr_page_hash){0, 0};
}
int vsmr_xxh3_have_avx512 = 0;
#endif
