/*
 * strbuf.c - growable text buffer used to build control-socket replies
 * and to queue them while the client's socket is full.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static int sb_grow(struct strbuf *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (sb->cap - sb->len > extra)
        return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap - sb->len <= extra)
        cap *= 2;
    char *d = realloc(sb->data, cap);
    if (!d) {
        sb->failed = 1;
        return -1;
    }
    sb->data = d;
    sb->cap = cap;
    return 0;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sb_grow(sb, (size_t)n + 1) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void sb_append(struct strbuf *sb, const void *p, size_t n)
{
    if (sb_grow(sb, n + 1) < 0)
        return;
    memcpy(sb->data + sb->len, p, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void sb_hex(struct strbuf *sb, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (sb_grow(sb, 2 * n + 1) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        sb->data[sb->len++] = digits[p[i] >> 4];
        sb->data[sb->len++] = digits[p[i] & 15];
    }
    sb->data[sb->len] = '\0';
}

void sb_consume(struct strbuf *sb, size_t n)
{
    if (n >= sb->len) {
        sb->len = 0;
        return;
    }
    memmove(sb->data, sb->data + n, sb->len - n);
    sb->len -= n;
}

void sb_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}
