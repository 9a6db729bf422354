/*
 * epoch.h - pure bookkeeping of output epochs over sch_plug, which keeps
 * one open and at most one closed epoch: decides which kernel commands an
 * epoch end or commit needs. No I/O here; netbuf.c sends the commands.
 */
#ifndef VSMR_NETIO_EPOCH_H
#define VSMR_NETIO_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

enum netbuf_cmd {
    NETBUF_CMD_NONE = 0,
    NETBUF_CMD_BUFFER,       /* close the open kernel epoch (a plug mark) */
    NETBUF_CMD_RELEASE_ONE,  /* let the closed kernel epoch go */
};

struct netbuf_epochs {
    bool passing;         /* released indefinitely: nothing is held */
    bool slot_busy;       /* the kernel holds a closed epoch */
    uint64_t slot_epoch;  /* ... releasable once this epoch commits */
    uint64_t last_end;    /* highest epoch ended so far */
    uint64_t committed;   /* highest epoch committed so far */
    uint64_t merged;      /* epoch ends folded into a later one (stats) */
};

/* Holding, nothing closed (a fresh plug qdisc). */
void netbuf_epochs_init(struct netbuf_epochs *st);
/* Epoch e ended (outputs so far belong to epochs <= e). Sets *cmd.
 * VSMR_ESTATE if e does not exceed the last ended epoch. */
int netbuf_epochs_end(struct netbuf_epochs *st, uint64_t e,
                      enum netbuf_cmd *cmd);
/* Epoch e committed. Sets *cmd. VSMR_ESTATE if e has not ended yet;
 * committing an epoch again or an older one is a no-op. */
int netbuf_epochs_commit(struct netbuf_epochs *st, uint64_t e,
                         enum netbuf_cmd *cmd);
/* The raw commands, to keep the bookkeeping true when they are sent
 * directly: a plug mark, a release of one, unplug, and drop-all. */
void netbuf_epochs_on_buffer(struct netbuf_epochs *st);
void netbuf_epochs_on_release_one(struct netbuf_epochs *st);
void netbuf_epochs_on_unplug(struct netbuf_epochs *st);
void netbuf_epochs_on_drop(struct netbuf_epochs *st);

#endif
