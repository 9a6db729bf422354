/*
 * mac.c - MAC addresses as text (mac.h). Pure; no system calls.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mac.h"

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vsmr_mac_parse(const char *text, uint8_t mac[VSMR_MAC_LEN])
{
    if (!text || !mac)
        return vsmr_fail(VSMR_EINVAL, "no MAC address given");
    uint8_t out[VSMR_MAC_LEN];
    const char *p = text;
    for (int i = 0; i < VSMR_MAC_LEN; i++) {
        int hi = hex(p[0]), lo = hi < 0 ? -1 : hex(p[1]);
        char sep = lo < 0 ? '?' : p[2];
        if (lo < 0 || sep != (i + 1 < VSMR_MAC_LEN ? ':' : '\0'))
            return vsmr_fail(VSMR_EINVAL, "'%.40s' is not a MAC address "
                             "(six hex pairs separated by ':', e.g. "
                             "00:16:3e:12:34:56)", text);
        out[i] = (uint8_t)(hi << 4 | lo);
        p += 3;
    }
    memcpy(mac, out, sizeof out);
    return VSMR_OK;
}

void vsmr_mac_format(const uint8_t mac[VSMR_MAC_LEN], char out[VSMR_MAC_TEXT])
{
    snprintf(out, VSMR_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
             mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int vsmr_mac_is_unicast(const uint8_t mac[VSMR_MAC_LEN])
{
    static const uint8_t zero[VSMR_MAC_LEN];
    return !(mac[0] & 1) && memcmp(mac, zero, VSMR_MAC_LEN) != 0;
}
