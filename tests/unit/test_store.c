/*
 * test_store.c - the replica's durable store: entries and hard state come
 * back after a reopen; a later entry at an existing index replaces the
 * suffix; a torn or corrupted tail is cut off, never loaded; a second
 * daemon cannot open the same data_dir.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vsmr-store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void save(vsmr_store *s, uint64_t first, size_t n, uint64_t term,
                 const char *text)
{
    struct vsmr_entry e[8];
    for (size_t i = 0; i < n; i++)
        e[i] = (struct vsmr_entry){.index = first + i, .term = term,
                                   .type = VSMR_ENTRY_NORMAL,
                                   .data = (const uint8_t *)text,
                                   .len = (uint32_t)strlen(text)};
    struct vsmr_log_ready rd = {
        .hard_state_changed = true,
        .hard_state = {.term = term, .vote = 2, .commit = first + n - 1},
        .entries = e, .n_entries = n,
    };
    ck_assert_int_eq(vsmr_store_save_ready(s, &rd), 0);
}

static vsmr_store *reopen(struct vsmr_log_persisted *p, bool *fresh)
{
    vsmr_store *s;
    ck_assert_int_eq(vsmr_store_open(dir, true, &s, p, fresh), 0);
    return s;
}

START_TEST(entries_and_hard_state_survive_reopen)
{
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    ck_assert(fresh);
    save(s, 1, 3, 1, "abc");
    save(s, 4, 2, 2, "defg");
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert(!fresh);
    ck_assert_uint_eq(p.hs.term, 2);
    ck_assert_uint_eq(p.hs.vote, 2);
    ck_assert_uint_eq(p.n_entries, 5);
    ck_assert_uint_eq(p.entries[4].index, 5);
    ck_assert_uint_eq(p.entries[4].term, 2);
    ck_assert_int_eq(memcmp(p.entries[4].data, "defg", 4), 0);
    vsmr_store_close(s);
}
END_TEST

START_TEST(rewritten_index_replaces_the_suffix)
{
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    save(s, 1, 5, 1, "old");
    save(s, 3, 1, 2, "new");   /* a new leader overwrote index 3.. */
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(p.n_entries, 3);
    ck_assert_uint_eq(p.entries[2].term, 2);
    ck_assert_int_eq(memcmp(p.entries[2].data, "new", 3), 0);
    vsmr_store_close(s);
}
END_TEST

static void damage(const char *how)
{
    char path[96];
    snprintf(path, sizeof path, "%s/log", dir);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    off_t end = lseek(fd, 0, SEEK_END);
    if (!strcmp(how, "torn")) {
        ck_assert_int_eq(ftruncate(fd, end - 3), 0);
    } else {   /* flip a byte inside the last record */
        char c;
        ck_assert_int_eq(pread(fd, &c, 1, end - 2), 1);
        c ^= 0x5a;
        ck_assert_int_eq(pwrite(fd, &c, 1, end - 2), 1);
    }
    close(fd);
}

static void check_tail_cut(const char *how)
{
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    save(s, 1, 2, 1, "keep");
    save(s, 3, 1, 1, "kept");   /* written as: entry 3, then hard state */
    vsmr_store_close(s);
    damage(how);                /* hits the last hard-state record */
    s = reopen(&p, &fresh);
    ck_assert_uint_gt(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 3);
    ck_assert_uint_eq(p.hs.commit, 2);   /* the damaged record is not used */
    save(s, 4, 1, 1, "again");  /* appending after the cut works */
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 4);
    ck_assert_uint_eq(p.hs.commit, 4);
    vsmr_store_close(s);
}

START_TEST(torn_tail_is_cut) { check_tail_cut("torn"); }
END_TEST

START_TEST(corrupt_tail_is_cut) { check_tail_cut("flip"); }
END_TEST

START_TEST(second_opener_is_refused)
{
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh), *t;
    ck_assert_int_eq(vsmr_store_open(dir, true, &t, &p, &fresh), VSMR_ESTATE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "in use"));
    vsmr_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, entries_and_hard_state_survive_reopen);
    tcase_add_test(tc, rewritten_index_replaces_the_suffix);
    tcase_add_test(tc, torn_tail_is_cut);
    tcase_add_test(tc, corrupt_tail_is_cut);
    tcase_add_test(tc, second_opener_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
