/*
 * netbuf_cmd.h - the subcommands of vsmr-netbuf. Each returns the exit
 * status: 0 ok, 1 failure (message on stderr), 2 bad usage.
 */
#ifndef VSMR_NETBUF_CMD_H
#define VSMR_NETBUF_CMD_H

int netbuf_cmd_setup(const char *vif, int argc, char **argv);
int netbuf_cmd_teardown(const char *vif);
int netbuf_cmd_status(const char *vif);
int netbuf_cmd_plug(const char *cmd, const char *vif);
int netbuf_cmd_capture(const char *vif, int argc, char **argv);
int netbuf_cmd_inject(const char *vif, int argc, char **argv);
int netbuf_cmd_relay(const char *vif, int argc, char **argv);
int netbuf_cmd_takeover(const char *vif, int argc, char **argv);

#endif
