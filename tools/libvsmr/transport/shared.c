/*
 * shared.c - small pieces the tcp, rdma and auto transports share: the
 * structured log line handed to the owner's callback, and the dial switch
 * the auto transport turns on tcp's and rdma's peers.
 */
#include <stdio.h>

#include "transport/transport.h"

void vsmr_transport_vlogf(const struct vsmr_transport_handler *h,
                          enum vsmr_log_level lvl, const char *fmt,
                          va_list ap)
{
    if (!h->log)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    h->log(h->ctx, lvl, line);
}

bool vsmr_dial_switch(bool *off, bool on, int64_t *next_dial_ms,
                      unsigned *backoff_ms, unsigned min_backoff_ms)
{
    if (*off == !on)
        return false;
    *off = !on;
    if (on) {
        *backoff_ms = min_backoff_ms;
        *next_dial_ms = vsmr_now_ms();
    }
    return true;
}
