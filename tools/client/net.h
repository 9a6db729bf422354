/*
 * net.h - the client's TCP: parsing ADDR:PORT, connecting within a time
 * bound, and non-blocking send and receive. No protocol knowledge here.
 */
#ifndef VSMR_CLIENT_NET_H
#define VSMR_CLIENT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct net_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[80];              /* as given, for messages */
};

/* Parses "HOST:PORT" or "[V6]:PORT" (numeric host or a name). 0 or -1,
 * with a reason in err[errcap]. */
int net_parse(struct net_addr *a, const char *text, char *err,
              size_t errcap);
/* Connects within timeout_ms; returns a non-blocking socket, or -1 with
 * a reason in err[errcap]. */
int net_connect(const struct net_addr *a, int timeout_ms, char *err,
                size_t errcap);

#endif
