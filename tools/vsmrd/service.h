/*
 * service.h - the guest's service address on this host (client_listen):
 * accepts client connections, turns each request into a guest input
 * proposed to the log (on the serving primary only), and routes the
 * guest's released responses back to the connection that asked.
 * docs/operator-guide.md, "Client protocol", gives the framing.
 */
#ifndef VSMRD_SERVICE_H
#define VSMRD_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "node.h"
#include "strbuf.h"

#define SERVICE_NOT_PRIMARY 16   /* response status: ask another replica */

struct service;

/* serving(ctx): whether this replica may take guest inputs now. */
int service_start(const struct sockaddr_storage *addr, socklen_t len,
                  struct loop *l, struct node *n,
                  bool (*serving)(void *ctx), void *ctx,
                  struct service **out);
void service_stop(struct service *s);
/* A response released by the guest side: its id is the tag this service
 * gave the request; it goes back to the client with the client's id. */
void service_release(struct service *s, const uint8_t *resp, size_t len);
void service_status(struct service *s, struct strbuf *out);

#endif
