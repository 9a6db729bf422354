/*
 * progress.c - progress of the initial copy: bytes through the pipe
 * against the domain's memory. On a terminal a bar redrawn in place (at
 * most 10 times a second); otherwise one plain line every 5 seconds, for
 * logs. The stream is a little larger than memory (headers, context), so
 * the bar stops at 99% until the copy has finished.
 */
#include <stdio.h>
#include <string.h>

#include "xlvsmr.h"

void xlv_progress_format(uint64_t done, uint64_t total, double secs,
                         int width, char *buf, size_t len)
{
    unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
    if (pct > 99 && done < total)
        pct = 99;
    if (pct > 100)
        pct = 100;
    double mib = (double)done / (1 << 20);
    double rate = secs > 0 ? mib / secs : 0;
    if (width < 0) {            /* a plain line */
        snprintf(buf, len, "copy: %u%% %.1f of %.1f MiB, %.1f MiB/s, %.0f s",
                 pct, mib, (double)total / (1 << 20), rate, secs);
        return;
    }
    char bar[101];
    int w = width > 100 ? 100 : width;
    int fill = w * (int)pct / 100;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(w - fill));
    bar[w] = '\0';
    snprintf(buf, len, "copy [%s] %3u%% %7.1f MiB %6.1f MiB/s", bar, pct, mib,
             rate);
}

void xlv_progress_start(struct xlv_progress *pg, uint64_t total, bool tty)
{
    pg->tty = tty;
    pg->total = total;
    pg->done = 0;
    pg->start_ms = pg->last_ms = xlv_now_ms();
}

void xlv_progress_update(struct xlv_progress *pg, uint64_t done, bool final)
{
    int64_t now = xlv_now_ms();
    pg->done = done;
    if (!final && now - pg->last_ms < (pg->tty ? 100 : 5000))
        return;
    pg->last_ms = now;
    double secs = (double)(now - pg->start_ms) / 1000.0;
    char line[256];
    xlv_progress_format(done, final ? done : pg->total, secs,
                        pg->tty ? 40 : -1, line, sizeof line);
    if (pg->tty)
        fprintf(stdout, "\r%s%s", line, final ? "\n" : "");
    else
        fprintf(stdout, "%s\n", line);
    fflush(stdout);
}
