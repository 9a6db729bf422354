/*
 * logline.c - formats a transport's structured log line and hands it to
 * the owner's log callback; shared by the tcp, rdma and auto transports.
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
