/*
 * cmd_hooks.c - vsmr-netbuf's setup, teardown, status, the plug commands
 * and the failover's bridge takeover: thin wrappers over libvsmr's netio
 * calls that print errors with the cause and exit non-zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mac.h"
#include "vsmr/netio.h"
#include "netbuf_cmd.h"

static int fail(const char *what, const char *vif, int err)
{
    fprintf(stderr, "vsmr-netbuf: %s %s: %s (%s)\n", what, vif,
            vsmr_errmsg(), vsmr_err_name(err));
    return 1;
}

int netbuf_cmd_setup(const char *vif, int argc, char **argv)
{
    unsigned what = VSMR_NETIO_BOTH;
    unsigned long limit = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--input-only"))
            what = VSMR_NETIO_INPUT;
        else if (!strcmp(argv[i], "--output-only"))
            what = VSMR_NETIO_OUTPUT;
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
            char *end;
            errno = 0;
            limit = strtoul(argv[++i], &end, 10);
            if (errno || *end || limit == 0 || limit > 1ul << 30) {
                fprintf(stderr, "vsmr-netbuf: --limit takes bytes, 1 to "
                        "%lu\n", 1ul << 30);
                return 2;
            }
        } else {
            fprintf(stderr, "vsmr-netbuf: setup: unknown option \"%s\"\n",
                    argv[i]);
            return 2;
        }
    }
    int err = vsmr_netio_setup(vif, what, (uint32_t)limit);
    return err < 0 ? fail("setup", vif, err) : 0;
}

int netbuf_cmd_teardown(const char *vif)
{
    int err = vsmr_netio_teardown(vif);
    return err < 0 ? fail("teardown", vif, err) : 0;
}

int netbuf_cmd_status(const char *vif)
{
    struct vsmr_netio_status st;
    struct vsmr_netio_names n;
    int err = vsmr_netio_names(vif, &n);
    if (err >= 0)
        err = vsmr_netio_status(vif, &st);
    if (err < 0)
        return fail("status", vif, err);
    printf("vif=%s\nvif_exists=%d\ninput=%d\noutput=%d\nleftovers=%d\n"
           "input_dev=%s\noutput_dev=%s\nheld_frames=%u\nheld_bytes=%u\n"
           "released_frames=%llu\ndropped_frames=%llu\n",
           vif, st.vif_exists, st.input, st.output, st.leftovers, n.in_dev,
           n.out_dev, st.out_qlen, st.out_backlog,
           (unsigned long long)st.out_sent,
           (unsigned long long)st.out_drops);
    if (st.input && st.output && !st.leftovers)
        return 0;
    return st.input || st.output || st.leftovers ? 4 : 3;
}

int netbuf_cmd_plug(const char *cmd, const char *vif)
{
    struct vsmr_netbuf *nb;
    int err = vsmr_netbuf_open(vif, &nb);
    if (err < 0)
        return fail(cmd, vif, err);
    if (!strcmp(cmd, "plug"))
        err = vsmr_netbuf_plug(nb);
    else if (!strcmp(cmd, "release"))
        err = vsmr_netbuf_release_one(nb);
    else if (!strcmp(cmd, "unplug"))
        err = vsmr_netbuf_unplug(nb);
    else
        err = vsmr_netbuf_drop(nb);
    vsmr_netbuf_close(nb);
    return err < 0 ? fail(cmd, vif, err) : 0;
}

int netbuf_cmd_takeover(const char *vif, int argc, char **argv)
{
    uint8_t mac[VSMR_MAC_LEN];
    if (argc != 2) {
        fprintf(stderr, "vsmr-netbuf: takeover VIF BRIDGE MAC\n");
        return 2;
    }
    if (vsmr_mac_parse(argv[1], mac) < 0) {
        fprintf(stderr, "vsmr-netbuf: takeover: %s\n", vsmr_errmsg());
        return 2;
    }
    int err = vsmr_netio_bridge_takeover(vif, argv[0], mac);
    if (err < 0)
        return fail("takeover", vif, err);
    printf("%s is a port of %s; %s forgotten on its other ports and "
           "announced %u times\n", vif, argv[0], argv[1],
           VSMR_NETIO_ANNOUNCEMENTS);
    return 0;
}
