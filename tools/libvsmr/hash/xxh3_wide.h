/*
 * xxh3_wide.h - XXH3-128 of one page with a wide vector unit (internal).
 */
#ifndef VSMR_HASH_XXH3_WIDE_H
#define VSMR_HASH_XXH3_WIDE_H

#include "vsmr/hash.h"

/* 1 when this build has the AVX2 variant (the CPU must have it too). */
extern int vsmr_xxh3_have_avx2;
vsmr_page_hash vsmr_xxh3_page_avx2(const void *page);
extern int vsmr_xxh3_have_avx512;
vsmr_page_hash vsmr_xxh3_page_avx512(const void *page);

#endif
