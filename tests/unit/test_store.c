/*
 * test_store.c - the replica's durable store, each test once with the
 * data_dir in memory (/dev/shm, tmpfs) and once on a disk file system
 * (/var/tmp): entries and hard state come back after a reopen; a later
 * entry at an existing index replaces the suffix; a torn or corrupted
 * tail is cut off, never loaded, and nothing after a cut ever comes back;
 * a daemon killed at any moment loses nothing it acknowledged; the
 * preallocated zero tail of a mapped file is not damage; files written
 * before the mapping (no tail) load, and clean closes still write them
 * byte for byte; a second daemon cannot open the same data_dir.
 */
#include <check.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static const char *base;
static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/vsmr-store.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void setup_memory(void)
{
    base = "/dev/shm";
    setup();
}

static void setup_disk(void)
{
    base = "/var/tmp";
    setup();
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

static void log_path(char *path, size_t len)
{
    snprintf(path, len, "%s/log", dir);
}

static void flip_byte(off_t at)
{
    char path[96], c;
    log_path(path, sizeof path);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

static void damage(const char *how)
{
    char path[96];
    log_path(path, sizeof path);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    off_t end = lseek(fd, 0, SEEK_END);
    if (!strcmp(how, "torn"))
        ck_assert_int_eq(ftruncate(fd, end - 3), 0);
    close(fd);
    if (strcmp(how, "torn"))   /* flip a byte inside the last record */
        flip_byte(end - 2);
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

static bool on_tmpfs(const char *path)
{
    struct statfs sfs;
    return statfs(path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
}

static uint64_t file_size(void)
{
    char path[96];
    struct stat st;
    log_path(path, sizeof path);
    ck_assert_int_eq(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

START_TEST(medium_is_detected)
{
    struct vsmr_log_persisted p;
    bool fresh;
    const char *fs, *why;
    vsmr_store *s = reopen(&p, &fresh);
    const char *mode = vsmr_store_sync_mode(s, &fs, &why);
    if (on_tmpfs(dir)) {
        ck_assert_str_eq(mode, "none");
        ck_assert_str_eq(fs, "tmpfs");
    } else {
        ck_assert_str_eq(mode, "fdatasync");
        ck_assert_str_eq(fs, "disk");
    }
    ck_assert_ptr_nonnull(why);
    vsmr_store_close(s);
    ck_assert_int_eq(vsmr_store_open(dir, false, &s, &p, &fresh), 0);
    ck_assert_str_eq(vsmr_store_sync_mode(s, &fs, &why), "off");
    vsmr_store_close(s);
}
END_TEST

/* A child opens the store, saves batches and dies without closing (the
 * mapped file keeps its preallocated zero tail). */
static void die_after_saving(size_t batches)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct vsmr_log_persisted p;
        bool fresh;
        vsmr_store *s;
        if (vsmr_store_open(dir, true, &s, &p, &fresh) < 0)
            _exit(2);
        for (size_t i = 0; i < batches; i++)
            save(s, 1 + 2 * i, 2, 1, "crash");
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(crash_leaves_a_zero_tail_not_damage)
{
    die_after_saving(3);
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    ck_assert_uint_gt(file_size(), vsmr_store_size(s));   /* the tail */
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 6);
    ck_assert_uint_eq(p.hs.commit, 6);
    save(s, 7, 1, 1, "after");
    uint64_t records = vsmr_store_size(s);
    vsmr_store_close(s);
    ck_assert_uint_eq(file_size(), records);   /* trimmed at close */
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(p.n_entries, 7);
    ck_assert_int_eq(memcmp(p.entries[6].data, "after", 5), 0);
    vsmr_store_close(s);
}
END_TEST

START_TEST(torn_copy_in_the_tail_is_cut)
{
    die_after_saving(2);
    uint64_t records = 2 * (2 * (16 + 29 + 5) + 16 + 20);
    ck_assert_uint_gt(file_size(), records);
    /* The first bytes of a record header after the last record: a copy
     * torn by the crash. */
    char path[96];
    log_path(path, sizeof path);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    const uint8_t torn[6] = {3, 0, 0, 0, 0x32, 0x07};
    ck_assert_int_eq(pwrite(fd, torn, sizeof torn, (off_t)records), 6);
    close(fd);
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 6);
    ck_assert_uint_eq(vsmr_store_size(s), records);
    ck_assert_uint_eq(p.n_entries, 4);
    save(s, 5, 1, 1, "next");
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 5);
    vsmr_store_close(s);
}
END_TEST

START_TEST(nothing_after_a_cut_comes_back)
{
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    save(s, 1, 2, 1, "base");
    uint64_t b_at = vsmr_store_size(s);
    save(s, 3, 1, 1, "bbbb");   /* B: to be damaged */
    save(s, 4, 1, 1, "cccc");   /* C: valid, but after the damage */
    vsmr_store_close(s);
    flip_byte((off_t)b_at + 20);
    s = reopen(&p, &fresh);
    ck_assert_uint_gt(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 2);
    /* A batch of exactly B's size: C's old bytes would follow it. */
    save(s, 3, 1, 2, "dddd");
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.n_entries, 3);
    ck_assert_uint_eq(p.entries[2].term, 2);
    ck_assert_int_eq(memcmp(p.entries[2].data, "dddd", 4), 0);
    vsmr_store_close(s);
}
END_TEST

/* Batches of 8 KB (written with pwrite) and of one 1000-byte entry
 * (copied into the mapping) in turn, ~4 MB: several growths. */
START_TEST(grows_across_chunks)
{
    static char big[1001];
    memset(big, 'x', 1000);
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    uint64_t next = 1;
    for (uint64_t i = 0; i < 800; i++) {
        size_t n = i % 2 ? 1 : 8;
        big[0] = (char)('a' + i % 26);
        save(s, next, n, 1, big);
        next += n;
    }
    vsmr_store_close(s);
    s = reopen(&p, &fresh);
    ck_assert_uint_eq(p.n_entries, next - 1);
    for (size_t i = 0, batch = 0; i < p.n_entries; batch++) {
        for (size_t k = 0; k < (batch % 2 ? 1u : 8u); k++, i++) {
            ck_assert_uint_eq(p.entries[i].index, i + 1);
            ck_assert_uint_eq(p.entries[i].len, 1000);
            ck_assert_int_eq(p.entries[i].data[0], 'a' + (int)(batch % 26));
        }
    }
    vsmr_store_close(s);
}
END_TEST

/* dir/log as the store wrote it before it was mapped (commit 3e57aac):
 * entries 1 (NOOP) and 2 ("old", aux 7) with hard state (1, 1, 2) in one
 * batch, then a compaction point at (1, 1). */
static const uint8_t old_file[] = {
    0x03, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x02, 0x5b, 0xed, 0x68,
    0x28, 0x51, 0x96, 0x95, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x00, 0x20, 0x00, 0x00, 0x00, 0x18, 0x24, 0x51, 0xc4, 0x86, 0x13, 0x72,
    0x94, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x6f, 0x6c, 0x64, 0x01, 0x00, 0x00,
    0x00, 0x14, 0x00, 0x00, 0x00, 0xe8, 0xec, 0x3e, 0x15, 0x07, 0x00, 0xfe,
    0xba, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x10, 0x00, 0x00, 0x00, 0xdd, 0x4e, 0x24, 0x7b, 0xa2, 0xcf, 0x10,
    0x9c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00,
};

START_TEST(old_format_file_loads_and_is_still_written)
{
    char path[96];
    log_path(path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, old_file, sizeof old_file),
                     (ssize_t)sizeof old_file);
    close(fd);
    struct vsmr_log_persisted p;
    bool fresh;
    vsmr_store *s = reopen(&p, &fresh);
    ck_assert(!fresh);
    ck_assert_uint_eq(vsmr_store_dropped_tail(s), 0);
    ck_assert_uint_eq(p.snap_index, 1);
    ck_assert_uint_eq(p.hs.commit, 2);
    ck_assert_uint_eq(p.n_entries, 1);
    ck_assert_uint_eq(p.entries[0].aux, 7);
    ck_assert_int_eq(memcmp(p.entries[0].data, "old", 3), 0);
    vsmr_store_close(s);
    /* The same batches written now give the same bytes. */
    ck_assert_int_eq(unlink(path), 0);
    s = reopen(&p, &fresh);
    struct vsmr_entry e[2] = {
        {.index = 1, .term = 1, .type = VSMR_ENTRY_NOOP},
        {.index = 2, .term = 1, .aux = 7, .type = VSMR_ENTRY_NORMAL,
         .data = (const uint8_t *)"old", .len = 3}};
    struct vsmr_log_ready rd = {.hard_state_changed = true,
                                .hard_state = {.term = 1, .vote = 1,
                                               .commit = 2},
                                .entries = e, .n_entries = 2};
    ck_assert_int_eq(vsmr_store_save_ready(s, &rd), 0);
    struct vsmr_log_ready snap = {.snapshot_changed = true, .snap_index = 1,
                                  .snap_term = 1};
    ck_assert_int_eq(vsmr_store_save_ready(s, &snap), 0);
    vsmr_store_close(s);
    uint8_t back[sizeof old_file + 1];
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, back, sizeof back), (ssize_t)sizeof old_file);
    close(fd);
    ck_assert_int_eq(memcmp(back, old_file, sizeof old_file), 0);
}
END_TEST

/* A writer acknowledges each batch on a pipe once vsmr_store_save_ready
 * returned (what vsmrd does before it sends an APPEND_RESP) and is killed
 * at a random moment; every acknowledged entry must load, intact. */
START_TEST(killed_writer_loses_nothing_acknowledged)
{
    srand((unsigned)time(NULL));
    for (int round = 0; round < 12; round++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        struct vsmr_log_persisted p;
        bool fresh;
        vsmr_store *s = reopen(&p, &fresh);
        uint64_t next = p.n_entries ? p.entries[p.n_entries - 1].index + 1
                                    : 1;
        vsmr_store_close(s);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            if (vsmr_store_open(dir, true, &s, &p, &fresh) < 0)
                _exit(2);
            for (uint64_t i = next;; i += 4) {
                save(s, i, 4, 1, "kill me whenever you like");
                uint64_t acked = i + 3;
                if (write(fds[1], &acked, sizeof acked) != sizeof acked)
                    _exit(3);
            }
        }
        close(fds[1]);
        struct timespec ts = {0, (rand() % 20000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
        uint64_t acked = next - 1, a;
        while (read(fds[0], &a, sizeof a) == sizeof a)
            acked = a;
        close(fds[0]);
        s = reopen(&p, &fresh);
        ck_assert_uint_ge(p.n_entries, acked);
        for (size_t i = 0; i < p.n_entries; i++) {
            ck_assert_uint_eq(p.entries[i].index, i + 1);
            ck_assert_int_eq(memcmp(p.entries[i].data, "kill me", 7), 0);
        }
        vsmr_store_close(s);
    }
}
END_TEST

static TCase *all_tests(const char *name, void (*fixture)(void))
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, fixture, teardown);
    tcase_add_test(tc, entries_and_hard_state_survive_reopen);
    tcase_add_test(tc, rewritten_index_replaces_the_suffix);
    tcase_add_test(tc, torn_tail_is_cut);
    tcase_add_test(tc, corrupt_tail_is_cut);
    tcase_add_test(tc, second_opener_is_refused);
    tcase_add_test(tc, medium_is_detected);
    tcase_add_test(tc, crash_leaves_a_zero_tail_not_damage);
    tcase_add_test(tc, torn_copy_in_the_tail_is_cut);
    tcase_add_test(tc, nothing_after_a_cut_comes_back);
    tcase_add_test(tc, grows_across_chunks);
    tcase_add_test(tc, old_format_file_loads_and_is_still_written);
    tcase_add_test(tc, killed_writer_loses_nothing_acknowledged);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("store");
    suite_add_tcase(s, all_tests("memory", setup_memory));
    suite_add_tcase(s, all_tests("disk", setup_disk));
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
