/*
 * epoch.c - epoch bookkeeping for the output buffer (see epoch.h). The
 * kernel counts one closed epoch; a second end before the first commits is
 * folded into the next mark, so its outputs leave later, never earlier.
 */
#include "common/err.h"
#include "netio/epoch.h"

void netbuf_epochs_init(struct netbuf_epochs *st)
{
    *st = (struct netbuf_epochs){0};
}

int netbuf_epochs_end(struct netbuf_epochs *st, uint64_t e,
                      enum netbuf_cmd *cmd)
{
    *cmd = NETBUF_CMD_NONE;
    if (e == 0 || e <= st->last_end)
        return vsmr_fail(VSMR_ESTATE,
                         "output epoch %llu ended after epoch %llu",
                         (unsigned long long)e,
                         (unsigned long long)st->last_end);
    st->last_end = e;
    if (st->passing)
        return VSMR_OK;
    if (st->slot_busy) {
        /* The kernel cannot count a second closed epoch: these outputs
         * stay in the open one and leave with the next mark's commit. */
        st->merged++;
        return VSMR_OK;
    }
    st->slot_busy = true;
    st->slot_epoch = e;
    *cmd = NETBUF_CMD_BUFFER;
    return VSMR_OK;
}

int netbuf_epochs_commit(struct netbuf_epochs *st, uint64_t e,
                         enum netbuf_cmd *cmd)
{
    *cmd = NETBUF_CMD_NONE;
    if (e > st->last_end)
        return vsmr_fail(VSMR_ESTATE,
                         "output epoch %llu committed before it ended "
                         "(last ended: %llu)", (unsigned long long)e,
                         (unsigned long long)st->last_end);
    if (e > st->committed)
        st->committed = e;
    if (st->passing || !st->slot_busy || st->slot_epoch > st->committed)
        return VSMR_OK;
    st->slot_busy = false;
    *cmd = NETBUF_CMD_RELEASE_ONE;
    return VSMR_OK;
}

void netbuf_epochs_on_buffer(struct netbuf_epochs *st)
{
    /* From passing, a mark starts holding with an empty closed epoch. */
    if (st->passing) {
        st->passing = false;
        st->slot_busy = false;
        return;
    }
    /* A raw mark closes the open epoch as the next one after the last
     * ended, so only a commit past it releases it. */
    st->slot_busy = true;
    st->slot_epoch = st->last_end + 1;
}

void netbuf_epochs_on_release_one(struct netbuf_epochs *st)
{
    st->slot_busy = false;
}

void netbuf_epochs_on_unplug(struct netbuf_epochs *st)
{
    st->passing = true;
    st->slot_busy = false;
}

void netbuf_epochs_on_drop(struct netbuf_epochs *st)
{
    st->passing = false;
    st->slot_busy = false;
}
