/*
 * state.c - what a protection leaves for `xl vsmr status` and `xl vsmr
 * stop`: XLV_RUN_DIR/<uuid>/primary.state, "key=value" lines (domain name,
 * UUID, backup host, ssh command, directories, the backup copy's name,
 * the local vsmrd's pid). Found again by domain name, id or UUID.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "xlvsmr.h"

int xlv_state_save(const struct xlv_opts *o, const struct xlv_domain *d,
                   const struct xlv_plan *p, const struct xlv_replicas *r)
{
    char path[256], tmp[272];
    xlv_side_path(p, XLV_PRIMARY, "state", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return vsmr_fail_errno(VSMR_ESYS, "cannot write %s", tmp);
    fprintf(f, "name=%s\nuuid=%s\ndomid=%u\nhost=%s\nssh=%s\ndir=%s\n"
            "data=%s\nbackup_name=%s\nlocal_pid=%ld\n", d->name, d->uuid,
            d->domid, o->backup_host, o->ssh, p->dir, p->data,
            p->backup_name, (long)r->local_pid);
    if (fclose(f) == EOF || rename(tmp, path) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "cannot write %s", path);
    return VSMR_OK;
}

static void field(char *line, const char *key, char *dst, size_t len)
{
    size_t k = strlen(key);
    if (!strncmp(line, key, k) && line[k] == '=') {
        line[strcspn(line, "\n")] = '\0';
        snprintf(dst, len, "%s", line + k + 1);
    }
}

static int load_file(const char *path, struct xlv_state *s, char *domid,
                     size_t dlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return VSMR_ENOENT;
    memset(s, 0, sizeof *s);
    char line[1024], pid[32] = "";
    while (fgets(line, sizeof line, f)) {
        field(line, "name", s->name, sizeof s->name);
        field(line, "uuid", s->uuid, sizeof s->uuid);
        field(line, "domid", domid, dlen);
        field(line, "host", s->host, sizeof s->host);
        field(line, "ssh", s->ssh, sizeof s->ssh);
        field(line, "dir", s->dir, sizeof s->dir);
        field(line, "data", s->data, sizeof s->data);
        field(line, "backup_name", s->backup_name, sizeof s->backup_name);
        field(line, "local_pid", pid, sizeof pid);
    }
    fclose(f);
    s->local_pid = (pid_t)strtol(pid, NULL, 10);
    return s->uuid[0] && s->dir[0] ? VSMR_OK : VSMR_EPROTO;
}

int xlv_state_load(const char *domain, struct xlv_state *s)
{
    return xlv_state_find(domain, 0, s);
}

int xlv_state_find(const char *domain, int skip, struct xlv_state *s)
{
    DIR *dir = opendir(XLV_RUN_DIR);
    if (!dir)
        return vsmr_fail(VSMR_ENOENT, "no domain is protected on this host "
                         "(%s does not exist)", XLV_RUN_DIR);
    int rc = vsmr_fail(VSMR_ENOENT, "domain %s is not protected by xl vsmr "
                       "on this host", domain ? domain : "(any)");
    struct dirent *e;
    while ((e = readdir(dir))) {
        char path[512], domid[16] = "";
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/primary.state", XLV_RUN_DIR,
                 e->d_name);
        if (load_file(path, s, domid, sizeof domid) != VSMR_OK)
            continue;
        if (domain ? !strcmp(domain, s->name) || !strcmp(domain, s->uuid) ||
                     !strcmp(domain, domid)
                   : skip-- == 0) {
            rc = VSMR_OK;
            break;
        }
    }
    closedir(dir);
    return rc;
}

void xlv_state_remove(const char *dir)
{
    /* The logs stay: an error message points at them. */
    static const char *const files[] = {
        "primary.state", "primary.conf", "primary.sock",
    };
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
}
