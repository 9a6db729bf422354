/*
 * test_xlvsmr.c - xl-vsmr (`xl vsmr`): the option parser takes what xl
 * remus users type and refuses mistakes with a sentence; the vsmrd
 * configurations it writes parse with vsmrd's own parser and say what
 * was asked (the backup's guest_bridge: the domain's own bridge); the progress line; shell quoting of remote commands; and the
 * program itself on this host: usage errors exit 2, a bad key file and a
 * host without Xen exit 1, each with a clear message.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"

/* The program's modules are not in libvsmr: build the pure ones in. */
#include "../../tools/xl-vsmr/conf.c"
#include "../../tools/xl-vsmr/options.c"
#include "../../tools/xl-vsmr/progress.c"
#include "../../tools/xl-vsmr/reach.c"
#include "../../tools/xl-vsmr/remote.c"
#include "../../tools/xl-vsmr/status.c"

const char *xlv_prog = "xl-vsmr";
volatile int xlv_interrupted;
int64_t xlv_now_ms(void) { return vsmr_now_ms(); }
void xlv_say(const char *fmt, ...) {}
int xlv_wrap(int code, const char *prefix) { return code; }
/* status.c's neighbours, not exercised here. */
int xlv_state_load(const char *d, struct xlv_state *s) { return VSMR_ENOENT; }
int xlv_state_find(const char *d, int k, struct xlv_state *s)
{
    return VSMR_ENOENT;
}
void xlv_state_remove(const char *dir) {}
pid_t xlv_lock_holder(const char *uuid) { return 0; }
void xlv_replicas_stop(const struct xlv_opts *o, const struct xlv_plan *p,
                       struct xlv_replicas *r) {}
void xlv_copy_destroy(const struct xlv_opts *o, const struct xlv_plan *p) {}

static int parse(struct xlv_opts *o, char *err, ...)
{
    char *argv[32] = {"xl-vsmr"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    return xlv_parse_args(argc, argv, o, err, 256);
}

#define W "-w", "10.0.0.3:7003"

START_TEST(options_defaults_and_values)
{
    struct xlv_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, W, "guest1", "hostb", NULL), 0);
    ck_assert_int_eq(o.cmd, XLV_PROTECT);
    ck_assert_str_eq(o.domain, "guest1");
    ck_assert_str_eq(o.backup_host, "hostb");
    ck_assert_str_eq(o.ssh, "ssh");
    ck_assert_str_eq(o.key_file, "/etc/vsmr/cluster.key");
    ck_assert_str_eq(o.transport, "tcp");
    ck_assert_str_eq(o.witness_host, "10.0.0.3");
    ck_assert_uint_eq(o.witness_port, 7003);
    ck_assert_uint_eq(o.port, 7001);
    ck_assert_uint_eq(o.min_ms, 5);
    ck_assert_uint_eq(o.max_ms, 200);
    ck_assert(!o.foreground && !o.verify);

    /* Options after the arguments too, long ones, IPv6 witness. */
    ck_assert_int_eq(parse(&o, err, "-i", "10", "-I", "500", "-t", "2",
                           "-T", "auto", "--verify", "-s", "ssh -p 2222",
                           "-k", "/k/c.key", "-p", "7100", "-e", "7",
                           "root@hostb", "-w", "[fd00::3]:7003",
                           "--idle-checks", "5", "--backup-bridge", "br9",
                           "--timeout", "9", NULL), 0);
    ck_assert_uint_eq(o.min_ms, 10);
    ck_assert_uint_eq(o.max_ms, 500);
    ck_assert_uint_eq(o.threads, 2);
    ck_assert_str_eq(o.transport, "auto");
    ck_assert(o.verify && o.foreground);
    ck_assert_str_eq(o.ssh, "ssh -p 2222");
    ck_assert_str_eq(o.key_file, "/k/c.key");
    ck_assert_uint_eq(o.port, 7100);
    ck_assert_str_eq(o.witness_host, "fd00::3");
    ck_assert_uint_eq(o.idle_checks, 5);
    ck_assert_str_eq(o.backup_bridge, "br9");
    ck_assert_uint_eq(o.timeout_s, 9);
    ck_assert_str_eq(o.domain, "7");
    ck_assert_str_eq(o.backup_host, "root@hostb");
}
END_TEST

START_TEST(options_subcommands)
{
    struct xlv_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, "status", NULL), 0);
    ck_assert_int_eq(o.cmd, XLV_STATUS);
    ck_assert_ptr_null(o.domain);
    ck_assert_int_eq(parse(&o, err, "status", "g1", NULL), 0);
    ck_assert_str_eq(o.domain, "g1");
    ck_assert_int_eq(parse(&o, err, "stop", "g1", NULL), 0);
    ck_assert_int_eq(o.cmd, XLV_STOP);
    ck_assert_str_eq(o.domain, "g1");
    ck_assert_int_eq(parse(&o, err, "-h", NULL), 0);
    ck_assert_int_eq(o.cmd, XLV_HELP);
    ck_assert_int_eq(parse(&o, err, "stop", NULL), XLV_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(err, "stop needs a domain"));
    ck_assert_int_eq(parse(&o, err, "stop", "a", "b", NULL), XLV_EXIT_USAGE);
    ck_assert_int_eq(parse(&o, err, "status", "a", "b", NULL),
                     XLV_EXIT_USAGE);
}
END_TEST

START_TEST(options_mistakes_are_named)
{
    static const struct {
        const char *args[10];
        const char *says;
    } cases[] = {
        {{NULL}, "a domain and a backup host are needed"},
        {{"g1", NULL}, "a backup host is needed after the domain 'g1'"},
        {{"g1", "h", NULL}, "a witness is required"},
        {{"-w", "10.0.0.3", "g1", "h", NULL}, "must be HOST:PORT"},
        {{"-w", "h:0", "g1", "h", NULL}, "must be HOST:PORT"},
        {{"-w", "h:x", "g1", "h", NULL}, "must be HOST:PORT"},
        {{W, "-i", "0", "g1", "h", NULL}, "minimum interval"},
        {{W, "-i", "5x", "g1", "h", NULL}, "minimum interval"},
        {{W, "-I", "-3", "g1", "h", NULL}, "maximum interval"},
        {{W, "-i", "50", "-I", "10", "g1", "h", NULL}, "is below -i 50"},
        {{W, "-t", "999", "g1", "h", NULL}, "hashing threads"},
        {{W, "-T", "udp", "g1", "h", NULL}, "tcp, rdma or auto"},
        {{W, "-k", "rel.key", "g1", "h", NULL}, "absolute path"},
        {{W, "-p", "65535", "g1", "h", NULL}, "replica port"},
        {{W, "-s", "", "g1", "h", NULL}, "ssh command is empty"},
        {{W, "-x", "g1", "h", NULL}, "unknown option -x"},
        {{W, "--bogus", "g1", "h", NULL}, "unknown option --bogus"},
        {{W, "-i", NULL}, "option -i needs a value"},
        {{W, "g1", "h", "extra", NULL}, "unexpected argument 'extra'"},
        {{W, "g1", "h;rm", NULL}, "is not a host name"},
        {{W, "--backup-bridge", "a/b", "g1", "h", NULL}, "interface name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[12] = {"xl-vsmr"};
        int argc = 1;
        for (int j = 0; cases[i].args[j]; j++)
            argv[argc++] = (char *)cases[i].args[j];
        struct xlv_opts o;
        char err[256];
        ck_assert_msg(xlv_parse_args(argc, argv, &o, err, sizeof err) ==
                      XLV_EXIT_USAGE, "case %zu accepted", i);
        ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s' lacks "
                      "'%s'", i, err, cases[i].says);
    }
}
END_TEST

static void sample(struct xlv_opts *o, struct xlv_domain *d,
                   struct xlv_plan *p)
{
    char err[256];
    ck_assert_int_eq(parse(o, err, "-w", "10.0.0.3:7003", "-t", "2",
                           "--verify", "-i", "7", "-I", "300",
                           "--idle-checks", "4", "-k", "/etc/k.key", "g1",
                           "hostb", NULL), 0);
    *d = (struct xlv_domain){.domid = 5, .name = "g1",
                             .uuid = "11111111-2222-3333-4444-555555555555"};
    *p = (struct xlv_plan){.primary = "10.0.0.1:7001",
                           .backup = "10.0.0.2:7001",
                           .witness = "10.0.0.3:7003",
                           .dir = "/run/vsmr/11111111-2222-3333-4444-555555555555",
                           .data = "/var/lib/vsmr/1111", .backup_domid = 9,
                           .protection_id = UINT64_C(18000000000000000001)};
    ck_assert_int_eq(xlv_plan_guest_bridge(p, "br-prod"), 0);
}

START_TEST(config_parses_with_vsmrds_parser)
{
    struct xlv_opts o;
    struct xlv_domain d;
    struct xlv_plan p;
    sample(&o, &d, &p);
    char buf[4096];
    struct vsmr_config c;
    for (int side = XLV_PRIMARY; side <= XLV_BACKUP; side++) {
        uint32_t domid = side == XLV_PRIMARY ? 5 : 9;
        ck_assert_int_eq(xlv_conf_write(&o, &d, &p, side, domid, buf,
                                        sizeof buf), 0);
        int rc = vsmr_config_parse(buf, strlen(buf), "gen.conf", &c);
        ck_assert_msg(rc == 0, "%s\n%s", vsmr_errmsg(), buf);
        ck_assert_uint_eq(c.id, (unsigned)side);
        ck_assert_int_eq(c.role, side == XLV_PRIMARY ? VSMR_ROLE_PRIMARY
                                                     : VSMR_ROLE_BACKUP);
        ck_assert_uint_eq(c.n_peers, 3);
        ck_assert_str_eq(c.peers[1].text, "10.0.0.1:7001");
        ck_assert_str_eq(c.peers[3].text, "10.0.0.3:7003");
        ck_assert_int_eq(c.peers[3].role, VSMR_ROLE_WITNESS);
        ck_assert_str_eq(c.key_file, "/etc/k.key");
        char want[32];
        snprintf(want, sizeof want, "xen:%u", domid);
        ck_assert_str_eq(c.guest, want);
        ck_assert(c.verify);
        ck_assert_uint_eq(c.hash_threads, 2);
        ck_assert_uint_eq(c.sync_min_ms, 7);
        ck_assert_uint_eq(c.sync_max_ms, 300);
        ck_assert_uint_eq(c.sync_idle_checks, 4);
        /* Both sides name the same protection (a full 64-bit id). */
        ck_assert(c.protection_id == UINT64_C(18000000000000000001));
        const char *role = side == XLV_PRIMARY ? "primary" : "backup";
        snprintf(want, sizeof want, "/%s.sock", role);
        ck_assert_ptr_nonnull(strstr(c.control, want));
        ck_assert_ptr_nonnull(strstr(c.data_dir, role));
        ck_assert_ptr_nonnull(strstr(c.log_file, role));
        /* Only the backup's vif moves, to where the domain's was. */
        snprintf(want, sizeof want, "vif%u.0", domid);
        ck_assert_str_eq(c.guest_vif, want);
        ck_assert_str_eq(c.guest_bridge, side == XLV_BACKUP ? "br-prod" : "");
    }
    /* A domain without vifs: no guest_bridge at all. */
    p.guest_bridge[0] = '\0';
    ck_assert_int_eq(xlv_conf_write(&o, &d, &p, XLV_BACKUP, 9, buf,
                                    sizeof buf), 0);
    ck_assert_ptr_null(strstr(buf, "guest_bridge"));
}
END_TEST

/* The bridge kept from the domain's first nic: libxl's default when it
 * names none; a name vsmrd would refuse stops the protection early. */
START_TEST(guest_bridge_from_the_first_nic)
{
    struct xlv_plan p = {0};
    ck_assert_int_eq(xlv_plan_guest_bridge(&p, NULL), 0);
    ck_assert_str_eq(p.guest_bridge, "xenbr0");
    ck_assert_int_eq(xlv_plan_guest_bridge(&p, ""), 0);
    ck_assert_str_eq(p.guest_bridge, "xenbr0");
    ck_assert_int_eq(xlv_plan_guest_bridge(&p, "br0.100"), 0);
    ck_assert_str_eq(p.guest_bridge, "br0.100");
    static const char *const bad[] = {"br 0", "br;rm", "br/0",
                                      "a-much-too-long-bridge"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(xlv_plan_guest_bridge(&p, bad[i]), VSMR_EINVAL);
        ck_assert_msg(strstr(vsmr_errmsg(), "does not take as guest_bridge"),
                      "%s", vsmr_errmsg());
        ck_assert_str_eq(p.guest_bridge, "br0.100");   /* kept */
    }
}
END_TEST

START_TEST(config_too_small_buffer_fails)
{
    struct xlv_opts o;
    struct xlv_domain d;
    struct xlv_plan p;
    sample(&o, &d, &p);
    char buf[100];
    ck_assert_int_eq(xlv_conf_write(&o, &d, &p, XLV_PRIMARY, 5, buf,
                                    sizeof buf), VSMR_ERANGE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "does not fit"));
}
END_TEST

START_TEST(progress_line)
{
    char buf[256];
    xlv_progress_format(64u << 20, 128u << 20, 2.0, 20, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "[##########..........]") &&
                  strstr(buf, " 50%") && strstr(buf, "32.0 MiB/s"), "%s",
                  buf);
    /* The stream is larger than memory: 99% until it is done. */
    xlv_progress_format(130u << 20, 128u << 20, 1.0, 20, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "100%"), "%s", buf);
    xlv_progress_format(127u << 20, 128u << 20, 1.0, -1, buf, sizeof buf);
    ck_assert_msg(!strncmp(buf, "copy: 99% 127.0 of 128.0 MiB,", 29), "%s",
                  buf);
}
END_TEST

START_TEST(remote_command_quoting)
{
    struct xlv_opts o;
    char err[256], buf[512];
    ck_assert_int_eq(parse(&o, err, W, "g1", "hostb", NULL), 0);
    ck_assert_int_eq(xlv_remote_cmdline(&o, "echo 'a b'", buf, sizeof buf),
                     0);
    ck_assert_str_eq(buf, "ssh -o BatchMode=yes -o ConnectTimeout=5 'hostb' "
                          "'echo '\\''a b'\\'''");
    o.ssh = "/tmp/fakessh";   /* -s: used as given */
    ck_assert_int_eq(xlv_remote_cmdline(&o, "true", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "/tmp/fakessh 'hostb' 'true'");
    char small[16] = "";
    ck_assert(!xlv_sh_quote(small, sizeof small, "0123456789abcdef"));
}
END_TEST

static void kv_is(const char *line, const char *key, const char *want)
{
    char v[64];
    xlv_kv(line, key, v, sizeof v);
    ck_assert_msg(!strcmp(v, want), "%s: '%s', not '%s'", key, v, want);
}

static void write_key(const char *path, char fill)
{
    char k[32];
    memset(k, fill, sizeof k);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fwrite(k, 1, sizeof k, f);
    fclose(f);
    chmod(path, 0600);
}

/* The witness check: a real vsmrd witness; our key, a wrong key, a port
 * where nothing listens. */
START_TEST(witness_handshake_names_a_wrong_key)
{
    const char *bin = getenv("VSMR_BIN");
    char dir[] = "/tmp/xlvsmr-w-XXXXXX", path[128], conf[1024], good[128],
         bad[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    unsigned base = 21000 + (unsigned)getpid() % 20000;
    snprintf(good, sizeof good, "%s/good.key", dir);
    snprintf(bad, sizeof bad, "%s/bad.key", dir);
    write_key(good, 'g');
    write_key(bad, 'b');
    snprintf(path, sizeof path, "%s/w.conf", dir);
    snprintf(conf, sizeof conf, "id = 3\npeer.1 = 127.0.0.1:%u primary\n"
             "peer.2 = 127.0.0.1:%u backup\npeer.3 = 127.0.0.1:%u witness\n"
             "key_file = %s\ncontrol = %s/w.sock\ndata_dir = %s/data\n"
             "log_file = %s/w.log\nfsync = off\n", base, base + 1, base + 2,
             good, dir, dir, dir);
    FILE *f = fopen(path, "w");
    fputs(conf, f);
    fclose(f);
    pid_t w = fork();
    if (w == 0) {
        char exe[512];
        snprintf(exe, sizeof exe, "%s/vsmrd", bin ? bin : "build/bin");
        execl(exe, "vsmrd", "--config", path, "--bootstrap", (char *)NULL);
        _exit(127);
    }
    struct xlv_opts o;
    char err[256], wa[32];
    snprintf(wa, sizeof wa, "127.0.0.1:%u", base + 2);
    ck_assert_int_eq(parse(&o, err, "-w", wa, "-k", good, "g1", "h", NULL),
                     0);
    struct xlv_plan p = {0};
    snprintf(p.primary, sizeof p.primary, "127.0.0.1:%u", base);
    snprintf(p.witness, sizeof p.witness, "%s", wa);
    int rc = VSMR_ECLOSED;
    for (int i = 0; i < 100 && rc == VSMR_ECLOSED; i++) {
        usleep(50 * 1000);
        rc = xlv_reach_witness(&o, &p);
    }
    ck_assert_msg(rc == 0, "%s", vsmr_errmsg());
    /* The control socket, as xl vsmr status reads it. */
    char sock[128], out[8192];
    snprintf(sock, sizeof sock, "%s/w.sock", dir);
    ck_assert_int_eq(xlv_control_query(sock, "status", out, sizeof out), 0);
    ck_assert_msg(!strncmp(out, "node=3 ", 7), "%s", out);
    kv_is(out, "kind", "witness");
    kv_is(out, "node", "3");
    kv_is(out, "nosuchkey", "");
    ck_assert_ptr_nonnull(strstr(out, "\npeer=1 kind=primary"));
    ck_assert_int_eq(xlv_control_query(sock, "frobnicate", out, sizeof out),
                     VSMR_EPROTO);
    ck_assert_msg(strstr(vsmr_errmsg(), "unknown command"), "%s",
                  vsmr_errmsg());
    o.key_file = bad;
    rc = xlv_reach_witness(&o, &p);
    ck_assert_int_eq(rc, VSMR_EAUTH);
    ck_assert_msg(strstr(vsmr_errmsg(), "refused our cluster key") &&
                  !strchr(vsmr_errmsg(), '"'), "%s", vsmr_errmsg());
    kill(w, SIGTERM);
    waitpid(w, NULL, 0);
    o.key_file = good;
    rc = xlv_reach_witness(&o, &p);
    ck_assert_int_eq(rc, VSMR_ECLOSED);
    ck_assert_msg(strstr(vsmr_errmsg(), "nothing listens there"), "%s",
                  vsmr_errmsg());
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(status_fields)
{
    const char *l = "sync committed_epoch=7 epoch=9 last_reason=\"a b\" x=";
    kv_is(l, "epoch", "9");
    kv_is(l, "committed_epoch", "7");
    kv_is(l, "last_reason", "a b");
    kv_is(l, "x", "");
    kv_is(l, "sync", "");
}
END_TEST

/* Runs the program; returns its exit status, its stderr in err. */
static int run_prog(char *err, size_t len, const char *args)
{
    const char *bin = getenv("VSMR_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/xl-vsmr %s 2>&1 >/dev/null",
             bin ? bin : "build/bin", args);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(err, 1, len - 1, f);
    err[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(program_errors_and_exit_codes)
{
    char err[2048];
    ck_assert_int_eq(run_prog(err, sizeof err, "g1 hostb"), 2);
    ck_assert_ptr_nonnull(strstr(err, "a witness is required"));
    ck_assert_int_eq(run_prog(err, sizeof err, "-Q -w 1.2.3.4:1 g1 h"), 2);
    ck_assert_ptr_nonnull(strstr(err, "unknown option -Q"));
    ck_assert_ptr_nonnull(strstr(err, "usage: xl-vsmr"));
    ck_assert_int_eq(run_prog(err, sizeof err, "-h"), 0);

    char dir[] = "/tmp/xlvsmr-test-XXXXXX", key[96], args[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(key, sizeof key, "%s/cluster.key", dir);
    snprintf(args, sizeof args, "-w 127.0.0.1:9 -k %s g1 hostb", key);
    ck_assert_int_eq(run_prog(err, sizeof err, args), 1);
    ck_assert_msg(strstr(err, "cannot be opened"), "%s", err);
    FILE *f = fopen(key, "w");
    fputs("short", f);
    fclose(f);
    chmod(key, 0600);
    ck_assert_int_eq(run_prog(err, sizeof err, args), 1);
    ck_assert_msg(strstr(err, "expected exactly 32"), "%s", err);
    f = fopen(key, "w");
    fputs("0123456789abcdef0123456789abcdef", f);
    fclose(f);
    chmod(key, 0644);
    ck_assert_int_eq(run_prog(err, sizeof err, args), 1);
    ck_assert_msg(strstr(err, "chmod 600"), "%s", err);
    chmod(key, 0600);
    if (access("/dev/xen/privcmd", F_OK) != 0) {
        ck_assert_int_eq(run_prog(err, sizeof err, args), 1);
        ck_assert_msg(strstr(err, "not running Xen"), "%s", err);
    }
    snprintf(args, sizeof args, "stop nosuchdomain-%d", (int)getpid());
    ck_assert_int_eq(run_prog(err, sizeof err, args), 1);
    ck_assert_msg(strstr(err, "not protected") || strstr(err, "no domain"),
                  "%s", err);
    unlink(key);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xlvsmr");
    TCase *tc = tcase_create("xlvsmr");
    tcase_add_test(tc, options_defaults_and_values);
    tcase_add_test(tc, options_subcommands);
    tcase_add_test(tc, options_mistakes_are_named);
    tcase_add_test(tc, config_parses_with_vsmrds_parser);
    tcase_add_test(tc, guest_bridge_from_the_first_nic);
    tcase_add_test(tc, config_too_small_buffer_fails);
    tcase_add_test(tc, progress_line);
    tcase_add_test(tc, remote_command_quoting);
    tcase_add_test(tc, status_fields);
    tcase_add_test(tc, witness_handshake_names_a_wrong_key);
    tcase_add_test(tc, program_errors_and_exit_codes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
