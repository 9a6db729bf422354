/*
 * main.c - vsmr-netbuf: sets up, inspects and drives netio's hooks on one
 * vif (the hotplug script and operators call it), and moves a vif onto a
 * bridge as a failover does. Parses the command line
 * and dispatches; the work is in libvsmr's netio module.
 */
#include <stdio.h>
#include <string.h>

#include "netbuf_cmd.h"

static void usage(FILE *out)
{
    fputs("usage: vsmr-netbuf COMMAND VIF [options]\n"
          "  setup VIF [--input-only|--output-only] [--limit BYTES]\n"
          "                 create the IFBs, qdiscs and filters (outputs held)\n"
          "  teardown VIF   remove them (held outputs are dropped)\n"
          "  status VIF     print key=value lines; exit 0 if fully set up,\n"
          "                 3 if not set up at all, 4 if partly\n"
          "  plug VIF       close the current output epoch (TCQ_PLUG_BUFFER)\n"
          "  release VIF    release the closed output epoch (release_one)\n"
          "  unplug VIF     release everything and stop holding\n"
          "  drop VIF       discard every held output frame, keep holding\n"
          "  capture VIF FILE [--count N] [--timeout MS]\n"
          "                 read diverted input frames into a frame entry FILE\n"
          "  inject VIF FILE\n"
          "                 inject the frames of an entry FILE toward the guest\n"
          "  relay VIF [--timeout MS]\n"
          "                 capture, encode, decode and inject each frame (the\n"
          "                 primary's path without the log)\n"
          "  takeover VIF BRIDGE MAC\n"
          "                 a promoted guest's network: VIF joins BRIDGE, the\n"
          "                 bridge forgets MAC on its other ports, MAC is\n"
          "                 announced (RARP) from BRIDGE\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1], *vif = argv[2];
    int rest = argc - 3;
    char **rv = argv + 3;
    if (!strcmp(cmd, "setup"))
        return netbuf_cmd_setup(vif, rest, rv);
    if (!strcmp(cmd, "teardown"))
        return netbuf_cmd_teardown(vif);
    if (!strcmp(cmd, "status"))
        return netbuf_cmd_status(vif);
    if (!strcmp(cmd, "plug") || !strcmp(cmd, "release") ||
        !strcmp(cmd, "unplug") || !strcmp(cmd, "drop"))
        return netbuf_cmd_plug(cmd, vif);
    if (!strcmp(cmd, "capture"))
        return netbuf_cmd_capture(vif, rest, rv);
    if (!strcmp(cmd, "relay"))
        return netbuf_cmd_relay(vif, rest, rv);
    if (!strcmp(cmd, "inject"))
        return netbuf_cmd_inject(vif, rest, rv);
    if (!strcmp(cmd, "takeover"))
        return netbuf_cmd_takeover(vif, rest, rv);
    fprintf(stderr, "vsmr-netbuf: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
