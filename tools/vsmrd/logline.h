/*
 * logline.h - vsmrd's structured log lines:
 *   ts=2026-01-02T03:04:05.678Z level=info node=1 event=leader_changed term=3
 * one line per event, to stderr or the configured log file.
 */
#ifndef VSMRD_LOGLINE_H
#define VSMRD_LOGLINE_H

#include <stdint.h>

#include "transport/transport.h"

/* Opens path for appending ("" or NULL: stderr). */
int logline_open(const char *path, uint32_t node, enum vsmr_log_level min);
/* Writes "ts=.. level=.. node=.. event=<event> <fmt...>". */
void logline(enum vsmr_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a line whose "event=..." part is already formatted. */
void logline_raw(enum vsmr_log_level lvl, const char *rest);
void logline_close(void);

#endif
