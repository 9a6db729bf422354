/*
 * loop.h - vsmrd's one event loop (the size of Redis's ae): file
 * descriptors with callbacks, a periodic timer for the log core's tick,
 * and a hook that runs before every sleep to flush the core's output.
 */
#ifndef VSMRD_LOOP_H
#define VSMRD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*loop_fd_fn)(void *ctx, uint32_t events);
typedef void (*loop_hook_fn)(void *ctx);

struct loop;

int loop_new(struct loop **out);
void loop_free(struct loop *l);
/* Watches fd for events (EPOLLIN...) and calls fn(ctx, events). */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn,
             void *ctx);
int loop_mod(struct loop *l, int fd, uint32_t events);
void loop_del(struct loop *l, int fd);
/* Calls fn(ctx) every period_ms (a timerfd each; a few per loop). */
int loop_every(struct loop *l, unsigned period_ms, loop_hook_fn fn,
               void *ctx);
/* Calls fn(ctx) after each round of events, before waiting again. */
void loop_before_sleep(struct loop *l, loop_hook_fn fn, void *ctx);
/* Runs until loop_stop(). */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
