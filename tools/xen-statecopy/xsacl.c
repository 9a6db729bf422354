/*
 * xsacl.c - remembers every xenstore node whose permissions name domain B
 * (path, value, permissions) and puts them back. Releasing B (to drop the
 * watches of its previous kernel) makes oxenstored delete the nodes B owns
 * and strip B from every other ACL; this recreates and re-permits them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statecopy.h"

struct acl_entry {
    char *path;
    char *value;
    unsigned int len;
    struct xs_permissions *perms;
    unsigned int n;
};

struct acl_snapshot {
    struct acl_entry *e;
    size_t n, cap;
};

static bool names(const struct xs_permissions *p, unsigned int n, uint32_t d)
{
    for (unsigned int i = 0; i < n; i++)
        if (p[i].id == d)
            return true;
    return false;
}

static void walk(struct xs_handle *xs, const char *path, uint32_t domid,
                 struct acl_snapshot *s, int depth)
{
    unsigned int n = 0;
    struct xs_permissions *p = xs_get_permissions(xs, XBT_NULL, path, &n);
    if (p && names(p, n, domid)) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->e = realloc(s->e, s->cap * sizeof *s->e);
        }
        unsigned int len = 0;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        s->e[s->n++] = (struct acl_entry){strdup(path), v, v ? len : 0, p, n};
        p = NULL;
    }
    free(p);
    if (depth > 12)
        return;
    unsigned int nc = 0;
    char **kids = xs_directory(xs, XBT_NULL, path, &nc);
    for (unsigned int i = 0; kids && i < nc; i++) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "",
                 kids[i]);
        walk(xs, child, domid, s, depth + 1);
    }
    free(kids);
}

struct acl_snapshot *acl_snapshot(struct xs_handle *xs, uint32_t domid)
{
    struct acl_snapshot *s = calloc(1, sizeof *s);
    if (s)
        walk(xs, "/", domid, s, 0);
    return s;
}

int acl_restore(struct xs_handle *xs, struct acl_snapshot *s,
                size_t *restored, size_t *changed, size_t *recreated)
{
    *restored = *changed = *recreated = 0;
    for (size_t i = 0; i < s->n; i++) {
        unsigned int n = 0;
        struct xs_permissions *now = xs_get_permissions(xs, XBT_NULL,
                                                        s->e[i].path, &n);
        if (!now) {                       /* deleted with B's release */
            if (!xs_write(xs, XBT_NULL, s->e[i].path,
                          s->e[i].value ? s->e[i].value : "", s->e[i].len)) {
                printf("acl: cannot recreate %s\n", s->e[i].path);
                continue;
            }
            (*recreated)++;
            now = xs_get_permissions(xs, XBT_NULL, s->e[i].path, &n);
            if (!now)
                continue;
        }
        bool same = n == s->e[i].n &&
                    !memcmp(now, s->e[i].perms, n * sizeof *now);
        free(now);
        if (same)
            continue;
        (*changed)++;
        if (xs_set_permissions(xs, XBT_NULL, s->e[i].path, s->e[i].perms,
                               s->e[i].n))
            (*restored)++;
        else
            printf("acl: cannot restore %s\n", s->e[i].path);
    }
    return 0;
}

void acl_free(struct acl_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].path);
        free(s->e[i].value);
        free(s->e[i].perms);
    }
    free(s->e);
    free(s);
}
