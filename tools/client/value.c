/*
 * value.c - key names and self-describing values. Decoding trusts nothing:
 * a value counts as write n only if it is byte for byte what write n wrote.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "value.h"

size_t value_key_name(char *buf, uint32_t tag, uint32_t key)
{
    int n = snprintf(buf, KEY_MAX_SIZE, "c%08" PRIx32 "-%" PRIu32, tag, key);
    return n < 0 ? 0 : (size_t)n;
}

static int value_header(char *buf, size_t cap, uint32_t tag, uint32_t key,
                        uint64_t n)
{
    return snprintf(buf, cap, "v%08" PRIx32 ":%" PRIx32 ":%" PRIx64 "|",
                    tag, key, n);
}

static uint8_t value_pad(uint64_t seed, size_t i)
{
    uint64_t x = seed + 0x9e3779b97f4a7c15ull * (i / 8 + 1);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint8_t)('a' + ((x >> (8 * (i % 8))) & 0xff) % 26);
}

void value_encode(uint8_t *buf, size_t size, uint32_t tag, uint32_t key,
                  uint64_t n)
{
    char head[64];
    int h = value_header(head, sizeof head, tag, key, n);
    size_t hl = h < 0 ? 0 : (size_t)h < size ? (size_t)h : size;
    memcpy(buf, head, hl);
    uint64_t seed = ((uint64_t)key << 40) ^ n ^ ((uint64_t)tag << 20);
    for (size_t i = hl; i < size; i++)
        buf[i] = value_pad(seed, i);
}

/* Parses the write number out of the header, "v<tag>:<key>:<n>|". */
static uint64_t value_number(const uint8_t *buf, size_t len)
{
    size_t i = 0, colons = 0;
    while (i < len && i < 48 && colons < 2)
        colons += buf[i++] == ':';
    uint64_t n = 0;
    size_t digits = 0;
    for (; i < len && digits < 16; i++, digits++) {
        uint8_t ch = buf[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0)
            break;
        n = n * 16 + (uint64_t)d;
    }
    return colons == 2 && digits ? n : 0;
}

uint64_t value_decode(const uint8_t *buf, size_t len, size_t size,
                      uint32_t tag, uint32_t key)
{
    uint8_t want[VALUE_MAX_SIZE];
    if (!buf || len != size || len < VALUE_MIN_SIZE || len > VALUE_MAX_SIZE)
        return 0;
    uint64_t n = value_number(buf, len);
    if (n == 0)
        return 0;
    value_encode(want, len, tag, key, n);
    return memcmp(want, buf, len) == 0 ? n : 0;
}
