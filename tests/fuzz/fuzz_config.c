/*
 * fuzz_config.c - libFuzzer target for vsmrd's configuration parser: any
 * bytes give either a valid configuration or an error, never a crash, and
 * a parsed configuration is internally consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vsmr_config c;
    if (vsmr_config_parse((const char *)data, size, "fuzz.conf", &c) != 0)
        return 0;
    if (c.id < 1 || c.id > c.n_peers || c.n_peers > VSMR_MAX_PEERS ||
        !c.peers[c.id].set || c.role != c.peers[c.id].role ||
        c.heartbeat_ticks >= c.election_ticks || !c.key_file[0] ||
        !c.control[0] || !c.data_dir[0])
        abort();
    for (uint32_t i = 1; i <= c.n_peers; i++)
        if (!c.peers[i].set)
            abort();
    vsmr_config_override(&c, 2, VSMR_ROLE_NONE);
    return 0;
}
