/*
 * simtest.c - helpers for tests that drive a sim guest.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "simtest.h"

static uint32_t next_id = 1;

vsmr_guest *simtest_open(const char *spec)
{
    vsmr_guest *g = NULL;
    int rc = vsmr_guest_open("sim", spec, &g);
    ck_assert_msg(rc == VSMR_OK, "open sim '%s': %s", spec, vsmr_errmsg());
    return g;
}

int simtest_call(vsmr_guest *g, int op, const char *key, const void *val,
                 size_t vlen, uint32_t arg, int *status, void *out,
                 size_t *outlen)
{
    uint8_t buf[VSMR_SIM_MAX_MSG];
    uint32_t id = next_id++;
    size_t klen = key ? strlen(key) : 0;
    size_t n = vsmr_sim_encode_request(buf, sizeof buf, id, op, key, klen,
                                       val, vlen, arg);
    if (n == 0)
        return VSMR_EINVAL;
    int rc = vsmr_sim_send(g, buf, n);
    for (int tries = 0; rc == VSMR_OK && tries < 100; tries++) {
        size_t len;
        rc = vsmr_sim_recv(g, buf, sizeof buf, &len, 100);
        if (rc == VSMR_EAGAIN) {
            rc = VSMR_OK;
            continue;
        }
        uint32_t rid;
        const void *v;
        size_t vl;
        if (rc == VSMR_OK)
            rc = vsmr_sim_decode_response(buf, len, &rid, status, &v, &vl);
        if (rc == VSMR_OK && rid == id) {
            if (out)
                memcpy(out, v, vl);
            if (outlen)
                *outlen = vl;
            return VSMR_OK;
        }
    }
    return rc < 0 ? rc : VSMR_ETIMEDOUT;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int simtest_wait_idle(vsmr_guest *g)
{
    uint8_t buf[VSMR_SIM_MAX_MSG];
    for (int i = 0; i < 20000; i++) {
        size_t len;
        while (vsmr_sim_recv(g, buf, sizeof buf, &len, 0) == VSMR_OK)
            ;
        if (vsmr_sim_completed(g) == vsmr_sim_sent(g))
            return VSMR_OK;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return VSMR_ETIMEDOUT;
}

int simtest_workload(vsmr_guest *g, uint64_t seed, size_t n, unsigned keys)
{
    uint64_t s = seed * 2654435761u + 1;
    uint8_t buf[VSMR_SIM_MAX_MSG], val[256];
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "key-%u", (unsigned)(rng(&s) % keys));
        unsigned pick = (unsigned)(rng(&s) % 10);
        int op = pick < 6 ? VSMR_SIM_SET : pick < 9 ? VSMR_SIM_GET
                                                    : VSMR_SIM_DEL;
        size_t vlen = 8 + rng(&s) % 193;
        for (size_t k = 0; k < vlen; k++)
            val[k] = (uint8_t)(i + k);
        size_t len = vsmr_sim_encode_request(buf, sizeof buf, (uint32_t)i, op,
                                             key, strlen(key), val,
                                             op == VSMR_SIM_SET ? vlen : 0, 0);
        int rc = vsmr_sim_send(g, buf, len);
        if (rc < 0)
            return rc;
    }
    return simtest_wait_idle(g);
}
