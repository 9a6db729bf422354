/*
 * xen_clock.c - time for the backend's waits: a monotonic clock, sleeps,
 * and the backoff of polls that read xenstore. A dom0 with one vCPU
 * answering a poll every millisecond is slower to run what the poll
 * waits for (the guest's or a backend's own xenstore work), so such
 * polls start at 1 ms and back off.
 */
#include <time.h>

#include "guest/xen/xen_guest.h"

double xen_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void xen_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void xen_poll_wait(int *pause_ms, double deadline_ms)
{
    double left = deadline_ms - xen_now_ms();
    int ms = *pause_ms;
    if (left < ms)
        ms = left > 0 ? (int)left + 1 : 0;
    if (ms)
        xen_sleep_ms(ms);
    *pause_ms = *pause_ms * 2 > XEN_POLL_MAX_MS ? XEN_POLL_MAX_MS
                                                : *pause_ms * 2;
}
