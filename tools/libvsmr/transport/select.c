/*
 * select.c - turns the configured transport name ("tcp", "rdma", "auto")
 * into a transport implementation and one sentence saying why, for the
 * daemon to log. "auto" without an RDMA device is plain tcp; with one it
 * is the auto transport (auto.c), which decides per peer and logs each
 * peer's choice itself.
 */
#include <stdio.h>
#include <string.h>

#include <infiniband/verbs.h>

#include "common/err.h"
#include "transport/transport.h"

/* The first RDMA device's name, or "" when there is none. */
static int first_device(char *name, size_t size)
{
    int n = 0;
    struct ibv_device **l = ibv_get_device_list(&n);
    name[0] = '\0';
    if (l && n > 0)
        snprintf(name, size, "%s", ibv_get_device_name(l[0]));
    if (l)
        ibv_free_device_list(l);
    return l ? n : 0;
}

int vsmr_transport_select(const char *name,
                          const struct vsmr_transport_ops **out, char *why,
                          size_t why_len)
{
    char dev[64];
    if (strcmp(name, "tcp") == 0) {
        *out = &vsmr_transport_tcp_ops;
        snprintf(why, why_len, "transport=tcp reason=\"configured\"");
        return VSMR_OK;
    }
    int n = first_device(dev, sizeof dev);
    if (strcmp(name, "rdma") == 0) {
        if (n == 0)
            return vsmr_fail(VSMR_ENOENT, "transport rdma: no RDMA device "
                             "found (ibv_get_device_list returned none); use "
                             "transport = tcp or auto");
        *out = &vsmr_transport_rdma_ops;
        snprintf(why, why_len, "transport=rdma reason=\"configured; device "
                 "%s\"", dev);
        return VSMR_OK;
    }
    if (strcmp(name, "auto") == 0) {
        if (n > 0) {
            *out = &vsmr_transport_auto_ops;
            snprintf(why, why_len, "transport=auto reason=\"auto: RDMA device "
                     "%s found (%d in all); per peer: rdma when the peer's "
                     "rdma connection comes up, tcp otherwise\"", dev, n);
        } else {
            *out = &vsmr_transport_tcp_ops;
            snprintf(why, why_len, "transport=tcp reason=\"auto: no RDMA "
                     "device found (ibv_get_device_list returned none)\"");
        }
        return VSMR_OK;
    }
    return vsmr_fail(VSMR_ENOENT, "transport '%s' is not known (known: tcp, "
                     "rdma, auto)", name);
}
