/*
 * strbuf.h - a growable text buffer for control-socket replies.
 */
#ifndef VSMRD_STRBUF_H
#define VSMRD_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data;
    size_t len, cap;
    int failed;        /* an allocation failed; the text is truncated */
};

void sb_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const void *p, size_t n);
void sb_hex(struct strbuf *sb, const unsigned char *p, size_t n);
void sb_consume(struct strbuf *sb, size_t n);
void sb_free(struct strbuf *sb);

#endif
