/*
 * agent.h - the dom0 side of the test guest's TCP service
 * (tests/lab/guest/vsmr-guestd.c): one request line, one reply line, with
 * timeouts, so a paused guest shows up as "no answer" instead of a hang.
 */
#ifndef VSMR_XC_AGENT_H
#define VSMR_XC_AGENT_H

#include <stddef.h>

struct agent {
    int fd;
    char host[64];
    int port;
};

/* Connects to host:port, retrying for up to timeout_ms. 0 or -1. */
int agent_connect(struct agent *a, const char *addr, int timeout_ms);
void agent_close(struct agent *a);
/* Sends req (no newline). 0 or -1. */
int agent_send(struct agent *a, const char *req);
/* Reads one reply line within timeout_ms: 1 got one, 0 timed out, -1 error. */
int agent_recv(struct agent *a, char *out, size_t cap, int timeout_ms);
/* Send + receive: 1 answered, 0 timed out, -1 error. */
int agent_call(struct agent *a, const char *req, char *out, size_t cap,
               int timeout_ms);

#endif
