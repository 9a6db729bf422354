/*
 * xen_xspath.c - where libxl keeps a domain's xenstore nodes, as a rule
 * the pruned walk of xen_xsacl.c follows: its own /local/domain/D, each
 * <backend domain>/backend/<class>/D (and device-model/D), /libxl/D and
 * its /vm/<uuid>. Pure string work, no xenstore access.
 */
#include <string.h>

#include "guest/xen/xen_guest.h"

bool xen_xs_may_hold(const struct xen_xs_owner *c, const char *parent,
                     const char *child)
{
    const char *ld = "/local/domain/";
    if (!strcmp(parent, "/libxl"))
        return !strcmp(child, c->dom);
    if (!strcmp(parent, "/vm"))
        return !strcmp(child, c->vm);
    if (strncmp(parent, ld, strlen(ld)))
        return true;
    const char *rest = parent + strlen(ld);      /* "D", "D/backend", ... */
    const char *slash = strchr(rest, '/');
    size_t dlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (dlen == strlen(c->dom) && !strncmp(rest, c->dom, dlen))
        return true;                             /* its own tree */
    if (!slash)                                  /* another domain's top */
        return !strcmp(child, "backend") || !strcmp(child, "device-model");
    /* Another domain's tree: only its backend/<class>/D/... and
     * device-model/D/... (the walk reaches those only through D). */
    const char *sub = slash + 1;
    if (!strcmp(sub, "backend"))
        return true;                             /* any device class */
    if (!strcmp(sub, "device-model"))
        return !strcmp(child, c->dom);
    if (!strncmp(sub, "device-model/", 13))
        return true;
    if (strncmp(sub, "backend/", 8))
        return false;
    return strchr(sub + 8, '/') ? true : !strcmp(child, c->dom);
}

bool xen_xs_pruned_reaches(const struct xen_xs_owner *c, const char *path)
{
    char parent[512] = "";
    const char *p = path;
    while (*p == '/') {
        const char *end = strchr(p + 1, '/');
        size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
        char child[256];
        if (n >= sizeof child || strlen(parent) + n + 2 > sizeof parent)
            return false;
        memcpy(child, p + 1, n);
        child[n] = '\0';
        if (!xen_xs_may_hold(c, parent[0] ? parent : "/", child))
            return false;
        strcat(parent, "/");
        strcat(parent, child);
        p += n + 1;
    }
    return true;
}

