/*
 * mac.h - Ethernet MAC addresses as text ("00:16:3e:12:34:56"), strictly
 * parsed and formatted. Pure string work, shared by netio, the Xen
 * backend (xenstore holds MACs as text) and the command-line tools.
 */
#ifndef VSMR_COMMON_MAC_H
#define VSMR_COMMON_MAC_H

#include <stdint.h>

#define VSMR_MAC_LEN 6
#define VSMR_MAC_TEXT 18          /* "xx:xx:xx:xx:xx:xx" + NUL */

/* Six pairs of hex digits separated by ':' (either case), nothing else.
 * VSMR_EINVAL with a message quoting the text otherwise. */
int vsmr_mac_parse(const char *text, uint8_t mac[VSMR_MAC_LEN]);
/* Lower-case "xx:xx:xx:xx:xx:xx" into out. */
void vsmr_mac_format(const uint8_t mac[VSMR_MAC_LEN],
                     char out[VSMR_MAC_TEXT]);
/* A unicast address a guest may own: not multicast/broadcast, not zero. */
int vsmr_mac_is_unicast(const uint8_t mac[VSMR_MAC_LEN]);

#endif
