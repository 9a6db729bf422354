/*
 * control.h - the control socket: a unix stream socket speaking a line
 * protocol (status, propose, log, bench, ...). Each reply is zero or more
 * lines followed by one line starting with "ok" or "error: ".
 */
#ifndef VSMRD_CONTROL_H
#define VSMRD_CONTROL_H

#include "loop.h"
#include "node.h"

#define CONTROL_MAX_LINE     (2u * VSMR_LOG_MAX_ENTRY_DATA + 64u)
#define CONTROL_MAX_CLIENTS  32

struct control;

int control_start(const char *path, struct loop *l, struct node *n,
                  struct control **out);
void control_stop(struct control *c);

#endif
