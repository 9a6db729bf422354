/*
 * xen_xsacl.c - remembers every xenstore node whose permissions name a
 * domain (path, value, permissions) and puts them back. Releasing the
 * domain (for a fresh connection) makes oxenstored delete the nodes it
 * owns and strip it from every other ACL; this recreates and re-permits
 * them. Not atomic: watchers see the nodes go and come back.
 *
 * Reading the whole tree costs two requests a node, at every sync (under
 * emulation a large part of the backup's end). libxl keeps a domain's
 * nodes under its own /local/domain/D, under <backend domain>/backend/
 * <class>/D, /libxl/D and its /vm/<uuid>; the pruned walk reads only those.
 * It is used only once a whole-tree walk found nothing outside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#define MAX_DEPTH 12

struct acl_entry {
    char *path;
    char *value;
    unsigned int len;
    struct xs_permissions *perms;
    unsigned int n;
};

struct xen_acl_snapshot {
    uint32_t domid;
    struct acl_entry *e;
    size_t n, cap;
    size_t walked;                /* nodes whose permissions were read */
    bool oom;
};

static bool names(const struct xs_permissions *p, unsigned int n, uint32_t d)
{
    for (unsigned int i = 0; i < n; i++)
        if (p[i].id == d)
            return true;
    return false;
}

static void keep(struct xen_acl_snapshot *s, struct xs_handle *xs,
                 const char *path, struct xs_permissions *p, unsigned int n)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct acl_entry *e = realloc(s->e, cap * sizeof *e);
        if (!e) {
            s->oom = true;
            free(p);
            return;
        }
        s->e = e;
        s->cap = cap;
    }
    unsigned int len = 0;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    s->e[s->n++] = (struct acl_entry){strdup(path), v, v ? len : 0, p, n};
}

struct walk_ctx {
    struct xs_handle *xs;
    uint32_t domid;
    struct xen_xs_owner who;
    bool prune;
};

static void walk(const struct walk_ctx *c, const char *path,
                 struct xen_acl_snapshot *s, int depth)
{
    unsigned int n = 0;
    struct xs_permissions *p = xs_get_permissions(c->xs, XBT_NULL, path, &n);
    s->walked++;
    if (p && names(p, n, c->domid))
        keep(s, c->xs, path, p, n);
    else
        free(p);
    if (depth >= MAX_DEPTH)
        return;
    unsigned int nc = 0;
    char **kids = xs_directory(c->xs, XBT_NULL, path, &nc);
    for (unsigned int i = 0; kids && i < nc; i++) {
        if (c->prune && !xen_xs_may_hold(&c->who, path, kids[i]))
            continue;
        char child[512];
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "",
                 kids[i]);
        walk(c, child, s, depth + 1);
    }
    free(kids);
}

/* The last part of the domain's /vm/<uuid>, or "" when it has none. */
static void vm_of(struct walk_ctx *c)
{
    char p[64];
    unsigned int len = 0;
    snprintf(p, sizeof p, "/local/domain/%u/vm", c->domid);
    char *v = xs_read(c->xs, XBT_NULL, p, &len);
    const char *last = v ? strrchr(v, '/') : NULL;
    snprintf(c->who.vm, sizeof c->who.vm, "%s", last ? last + 1 : "");
    free(v);
}

int xen_acl_snapshot(struct xs_handle *xs, uint32_t domid, bool *prune,
                     struct xen_acl_snapshot **out, size_t *walked)
{
    struct walk_ctx c = {.xs = xs, .domid = domid, .prune = *prune};
    snprintf(c.who.dom, sizeof c.who.dom, "%u", domid);
    vm_of(&c);
    struct xen_acl_snapshot *s = calloc(1, sizeof *s);
    if (s) {
        s->domid = domid;
        walk(&c, "/", s, 0);
    }
    if (!s || s->oom || (s->n && !s->e[s->n - 1].path)) {
        xen_acl_free(s);
        return vsmr_fail(VSMR_ENOMEM, "domain %u: out of memory for its "
                         "xenstore nodes", domid);
    }
    if (!c.prune) {        /* a whole-tree walk: may the next be pruned? */
        *prune = true;
        for (size_t i = 0; i < s->n; i++)
            if (!xen_xs_pruned_reaches(&c.who, s->e[i].path))
                *prune = false;
    }
    *walked = s->walked;
    *out = s;
    return VSMR_OK;
}

/* Writes the node's value as remembered, then its permissions. */
static bool recreate(struct xs_handle *xs, const struct acl_entry *e)
{
    return xs_write(xs, XBT_NULL, e->path, e->value ? e->value : "", e->len) &&
           xs_set_permissions(xs, XBT_NULL, e->path, e->perms, e->n);
}

/* What the release did is known, so nothing is read first (every request
 * is a round trip: milliseconds under emulation): the nodes the domain
 * owned are gone and are written again; the others lost it from their
 * permissions, which are set back — or, if the node went with a deleted
 * parent, it is written again too. */
void xen_acl_restore(struct xs_handle *xs, const struct xen_acl_snapshot *s,
                     struct vsmr_guest_backup_figures *f)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct acl_entry *e = &s->e[i];
        bool owned = e->n && e->perms[0].id == s->domid;
        if (!owned &&
            xs_set_permissions(xs, XBT_NULL, e->path, e->perms, e->n)) {
            f->nodes_changed++;
            continue;
        }
        if (recreate(xs, e))
            f->nodes_recreated++;
        else
            f->nodes_lost++;
    }
}

void xen_acl_free(struct xen_acl_snapshot *s)
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
