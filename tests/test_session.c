/*
 * The session registry: what the PAM module writes reads back field
 * for field, and a record that is damaged, forged or planted by
 * someone other than root is never believed.  Records are only trusted
 * when root owns them, so the tests that read need root (make check
 * runs as root here); as another user they pass without checking.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "session.h"
#include "util.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"

#define NEED_ROOT() do { if (geteuid() != 0) return; } while (0)

static char tmpdir[] = "/tmp/agentgate-test-session.XXXXXX";
static char run_dir[256], sess_dir[300];
static struct ag_config cfg;

/* A minimal record with every required key, in the writer's order. */
static const char good_text[] =
	"id=" ID_A "\n"
	"user=agt-one\n"
	"uid=2147400001\n"
	"issuer=test\n"
	"jti=jti-1\n"
	"expires=1900000000\n"
	"started=1800000000\n"
	"rhost=192.0.2.7\n"
	"leader=4242\n"
	"leader_start=987654321\n"
	"cgroup=/agentgate/" ID_A "\n"
	"audit_sid=17\n"
	"groups=100,200\n";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(run_dir, sizeof(run_dir), "%s/run", tmpdir);
	snprintf(sess_dir, sizeof(sess_dir), "%s/sessions", run_dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.runtime_dir = run_dir;
	cfg.state_dir = tmpdir;
	ck_assert_int_eq(ag_mkdir_p(sess_dir, 0755), 0);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
}

/* Write LEN bytes of TEXT as sessions/NAME, bypassing the writer. */
static void plant(const char *name, const char *text, size_t len,
	mode_t mode)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sess_dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static int read_named(const char *name, struct ag_session *s)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", sess_dir, name);
	return ag_session_read(path, s);
}

static void fill_max(struct ag_session *s)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	strcpy(s->id, ID_A);
	memset(s->user, 'u', sizeof(s->user) - 1);
	s->uid = UINT32_MAX;
	memset(s->issuer, 'i', sizeof(s->issuer) - 1);
	memset(s->jti, 'j', sizeof(s->jti) - 1);
	s->expires = INT64_MAX;
	s->started = INT64_MIN;
	s->iat = INT64_MAX - 1;
	memset(s->rhost, 'r', sizeof(s->rhost) - 1);
	s->leader = INT32_MAX;
	s->leader_start = UINT64_MAX;
	memset(s->cgroup, 'c', sizeof(s->cgroup) - 1);
	s->audit_sid = 4000000000u;
	for (i = 0; i < AG_GROUPS_MAX; i++)
		s->groups[i] = UINT32_MAX - 1 - i;
	s->n_groups = AG_GROUPS_MAX;
}

static void assert_same(const struct ag_session *a,
	const struct ag_session *b)
{
	unsigned i;

	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->user, b->user);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_str_eq(a->issuer, b->issuer);
	ck_assert_str_eq(a->jti, b->jti);
	ck_assert(a->expires == b->expires);
	ck_assert(a->started == b->started);
	ck_assert(a->iat == b->iat);
	ck_assert_str_eq(a->rhost, b->rhost);
	ck_assert_int_eq(a->leader, b->leader);
	ck_assert(a->leader_start == b->leader_start);
	ck_assert_str_eq(a->cgroup, b->cgroup);
	ck_assert_uint_eq(a->audit_sid, b->audit_sid);
	ck_assert_uint_eq(a->n_groups, b->n_groups);
	for (i = 0; i < a->n_groups; i++)
		ck_assert_uint_eq(a->groups[i], b->groups[i]);
}

START_TEST(round_trip_keeps_every_field_at_its_limit)
{
	struct ag_session in, out;
	struct stat st;
	char path[400];

	NEED_ROOT();
	fill_max(&in);
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	ck_assert_int_eq(read_named(ID_A, &out), 0);
	assert_same(&in, &out);

	snprintf(path, sizeof(path), "%s/%s", sess_dir, ID_A);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

/* The fixture made the directory 0755, as older agentgated did. */
START_TEST(writer_makes_the_registry_private_to_root)
{
	struct ag_session in;
	struct stat st;
	char cmd[400];

	NEED_ROOT();
	fill_max(&in);
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	ck_assert_int_eq(stat(sess_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(run_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	ck_assert_int_eq(stat(sess_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(run_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
}
END_TEST

START_TEST(writer_refuses_a_registry_root_does_not_own)
{
	struct ag_session in;

	NEED_ROOT();
	fill_max(&in);
	ck_assert_int_eq(chown(sess_dir, 65534, 65534), 0);
	ck_assert_int_eq(ag_session_write(&cfg, &in), -EPERM);
}
END_TEST

START_TEST(round_trip_of_a_minimal_session)
{
	struct ag_session in, out;

	NEED_ROOT();
	memset(&in, 0, sizeof(in));
	strcpy(in.id, ID_B);
	strcpy(in.user, "a");
	in.leader = 1;
	in.audit_sid = UINT32_MAX;
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	ck_assert_int_eq(read_named(ID_B, &out), 0);
	assert_same(&in, &out);
}
END_TEST

START_TEST(rewrite_replaces_the_record)
{
	struct ag_session in, out;

	NEED_ROOT();
	fill_max(&in);
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	in.expires = 5;
	in.n_groups = 0;
	ck_assert_int_eq(ag_session_write(&cfg, &in), 0);
	ck_assert_int_eq(read_named(ID_A, &out), 0);
	assert_same(&in, &out);
}
END_TEST

START_TEST(older_record_without_iat_reads_back)
{
	struct ag_session s;

	NEED_ROOT();
	plant(ID_A, good_text, strlen(good_text), 0644);
	ck_assert_int_eq(read_named(ID_A, &s), 0);
	ck_assert_str_eq(s.user, "agt-one");
	ck_assert_uint_eq(s.uid, 2147400001u);
	ck_assert_int_eq(s.leader, 4242);
	ck_assert_str_eq(s.cgroup, "/agentgate/" ID_A);
	ck_assert_uint_eq(s.audit_sid, 17);
	ck_assert_uint_eq(s.n_groups, 2);
	ck_assert_uint_eq(s.groups[1], 200);
	ck_assert(s.iat == 0);
}
END_TEST

START_TEST(iat_is_read_when_present)
{
	char text[1024];
	struct ag_session s;

	NEED_ROOT();
	snprintf(text, sizeof(text), "%siat=1799999990\n", good_text);
	plant(ID_A, text, strlen(text), 0644);
	ck_assert_int_eq(read_named(ID_A, &s), 0);
	ck_assert(s.iat == 1799999990);
}
END_TEST

/* Each length of the record that is a whole number of lines. */
static bool at_line_end(size_t len)
{
	return len > 0 && good_text[len - 1] == '\n';
}

/* Whether the first LEN bytes still hold every required key. */
static bool has_required(size_t len)
{
	static const char *const req[] = { "\nuid=", "\nissuer=",
		"\njti=", "\nexpires=", "\nleader=" };
	char buf[sizeof(good_text)];
	unsigned i;

	memcpy(buf, good_text, len);
	buf[len] = '\0';
	for (i = 0; i < AG_ARRAY_SIZE(req); i++)
		if (!strstr(buf, req[i]))
			return false;
	return strncmp(buf, "id=", 3) == 0 && strstr(buf, "\nuser=");
}

/*
 * A cut inside a line, or one that drops a required key, is refused.
 * A cut at a line end after the last required key is a valid shorter
 * record (optional keys are optional, for older writers) and must
 * read back with the fields it kept and the defaults for the rest.
 */
START_TEST(record_truncated_at_every_length)
{
	struct ag_session s;
	size_t len;
	int r;

	NEED_ROOT();
	for (len = 0; len < strlen(good_text); len++) {
		plant(ID_A, good_text, len, 0644);
		memset(&s, 0x5a, sizeof(s));
		r = read_named(ID_A, &s);
		if (!at_line_end(len) || !has_required(len)) {
			ck_assert_msg(r == -EBADMSG, "len %zu: %d", len, r);
			ck_assert_int_eq((unsigned char)s.user[0], 0x5a);
			continue;
		}
		ck_assert_msg(r == 0, "len %zu: %d", len, r);
		ck_assert_int_eq(s.leader, 4242);
		ck_assert(s.n_groups == 0);
		ck_assert(s.audit_sid == 17 || s.audit_sid == UINT32_MAX);
	}
}
END_TEST

/* KEY's line replaced by LINE; KEY NULL: LINE added at the end. */
static const struct {
	const char *key;
	const char *line;
} bad[] = {
	{ NULL, "uid=2147400001\n" },	/* duplicate required key */
	{ NULL, "rhost=x\n" },		/* duplicate optional key */
	{ NULL, "noequals\n" },
	{ NULL, "=value\n" },
	{ "rhost", "rhost=a\tb\n" },	/* control characters */
	{ "rhost", "rhost=a\x7f\n" },
	{ "uid", "uid=-1\n" },
	{ "uid", "uid=4294967296\n" },
	{ "uid", "uid=12a\n" },
	{ "uid", "uid=\n" },
	{ "uid", "uid=+5\n" },
	{ "uid", "uid= 5\n" },
	{ "expires", "expires=abc\n" },
	{ "expires", "expires=-\n" },
	{ "expires", "expires=9223372036854775808\n" },
	{ "expires", "expires=1e9\n" },
	{ "leader", "leader=0\n" },
	{ "leader", "leader=2147483648\n" },
	{ "leader_start", "leader_start=18446744073709551616\n" },
	{ "audit_sid", "audit_sid=x\n" },
	{ NULL, "iat=soon\n" },
	{ NULL, "iat=1\niat=2\n" },
	{ "groups", "groups=1,a\n" },
	{ "groups", "groups=4294967295\n" },
	{ "groups", "groups=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,"
		"18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n" },
};

static void with_line(char *out, size_t len, const char *key,
	const char *line)
{
	char pat[32];
	const char *at, *end;

	if (!key) {
		snprintf(out, len, "%s%s", good_text, line);
		return;
	}
	snprintf(pat, sizeof(pat), "\n%s=", key);
	at = strstr(good_text, pat) + 1;
	end = strchr(at, '\n') + 1;
	snprintf(out, len, "%.*s%s%s", (int)(at - good_text), good_text,
		line, end);
}

START_TEST(corrupt_line_rejects_the_record)
{
	char text[1024];
	struct ag_session s;

	NEED_ROOT();
	with_line(text, sizeof(text), bad[_i].key, bad[_i].line);
	plant(ID_A, text, strlen(text), 0644);
	ck_assert_msg(read_named(ID_A, &s) == -EBADMSG, "%s", bad[_i].line);
}
END_TEST

static const char *const required[] = {
	"id", "user", "uid", "issuer", "jti", "expires", "leader",
};

START_TEST(missing_required_key_rejects_the_record)
{
	char text[1024], pat[32];
	const char *at, *end;
	struct ag_session s;

	NEED_ROOT();
	snprintf(pat, sizeof(pat), "%s=", required[_i]);
	at = strstr(good_text, pat);
	while (at != good_text && at[-1] != '\n')
		at = strstr(at + 1, pat);
	end = strchr(at, '\n') + 1;
	snprintf(text, sizeof(text), "%.*s%s", (int)(at - good_text),
		good_text, end);
	plant(ID_A, text, strlen(text), 0644);
	ck_assert_msg(read_named(ID_A, &s) == -EBADMSG, "%s", required[_i]);
}
END_TEST

START_TEST(unknown_keys_are_skipped_for_newer_writers)
{
	char text[1024];
	struct ag_session s;

	NEED_ROOT();
	snprintf(text, sizeof(text), "%sfuture=1\nfuture=2\n", good_text);
	plant(ID_A, text, strlen(text), 0644);
	ck_assert_int_eq(read_named(ID_A, &s), 0);
	ck_assert_str_eq(s.jti, "jti-1");
}
END_TEST

START_TEST(malformed_id_user_or_bytes_are_rejected)
{
	static const char *const ids[] = {
		"0123456789ABCDEF0123456789ABCDEF",
		"0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdeg",
	};
	char text[1024];
	struct ag_session s;
	unsigned i;

	NEED_ROOT();
	for (i = 0; i < AG_ARRAY_SIZE(ids); i++) {
		snprintf(text, sizeof(text), "id=%s%s", ids[i],
			good_text + strlen("id=" ID_A));
		plant(ID_A, text, strlen(text), 0644);
		ck_assert_int_eq(read_named(ID_A, &s), -EBADMSG);
	}
	with_line(text, sizeof(text), "user", "user=\n");
	plant(ID_A, text, strlen(text), 0644);
	ck_assert_int_eq(read_named(ID_A, &s), -EBADMSG);

	/* A NUL inside: the parser must not stop reading at it. */
	memcpy(text, good_text, sizeof(good_text));
	text[10] = '\0';
	plant(ID_A, text, strlen(good_text), 0644);
	ck_assert_int_eq(read_named(ID_A, &s), -EBADMSG);
}
END_TEST

START_TEST(untrusted_owner_or_mode_is_refused)
{
	static const mode_t modes[] = { 0664, 0646, 0666, 0622 };
	struct ag_session s;
	char path[400];
	unsigned i;

	NEED_ROOT();
	snprintf(path, sizeof(path), "%s/%s", sess_dir, ID_A);
	for (i = 0; i < AG_ARRAY_SIZE(modes); i++) {
		plant(ID_A, good_text, strlen(good_text), modes[i]);
		ck_assert_int_eq(read_named(ID_A, &s), -EPERM);
	}
	plant(ID_A, good_text, strlen(good_text), 0644);
	ck_assert_int_eq(chown(path, 2147400001u, 0), 0);
	ck_assert_int_eq(read_named(ID_A, &s), -EPERM);
	ck_assert_int_eq(chown(path, 0, 2147400001u), 0);
	ck_assert_int_eq(read_named(ID_A, &s), 0);
}
END_TEST

START_TEST(writer_refuses_what_would_not_read_back)
{
	struct ag_session s;

	fill_max(&s);
	s.id[0] = 'X';
	ck_assert_int_eq(ag_session_write(&cfg, &s), -EINVAL);
	fill_max(&s);
	s.user[0] = '\0';
	ck_assert_int_eq(ag_session_write(&cfg, &s), -EINVAL);
	fill_max(&s);
	s.leader = 0;
	ck_assert_int_eq(ag_session_write(&cfg, &s), -EINVAL);
	fill_max(&s);
	strcpy(s.rhost, "a\nuid=0");
	ck_assert_int_eq(ag_session_write(&cfg, &s), -EINVAL);
	fill_max(&s);
	s.n_groups = AG_GROUPS_MAX + 1;
	ck_assert_int_eq(ag_session_write(&cfg, &s), -EINVAL);
}
END_TEST

START_TEST(remove_checks_the_id)
{
	struct ag_session s;

	ck_assert_int_eq(ag_session_remove(&cfg, "../x"), -EINVAL);
	ck_assert_int_eq(ag_session_remove(&cfg, ID_B), -ENOENT);
	NEED_ROOT();
	fill_max(&s);
	ck_assert_int_eq(ag_session_write(&cfg, &s), 0);
	ck_assert_int_eq(ag_session_remove(&cfg, ID_A), 0);
	ck_assert_int_eq(read_named(ID_A, &s), -ENOENT);
}
END_TEST

struct seen {
	unsigned n;
	char ids[8][AG_SESSION_ID_LEN + 1];
	int stop_with;
};

static int collect(const struct ag_session *s, void *arg)
{
	struct seen *v = arg;

	if (v->n < 8)
		strcpy(v->ids[v->n], s->id);
	v->n++;
	return v->stop_with;
}

/* Good records are visited; every kind of bad one is passed over. */
START_TEST(foreach_skips_bad_records)
{
	struct seen v = { 0 };
	char text[1024], path[400];
	struct ag_session s;

	NEED_ROOT();
	fill_max(&s);
	ck_assert_int_eq(ag_session_write(&cfg, &s), 0);
	/* Named for one session, claiming another. */
	plant("11111111111111111111111111111111", good_text,
		strlen(good_text), 0644);
	plant("22222222222222222222222222222222", good_text, 20, 0644);
	snprintf(text, sizeof(text), "id=%s%s", ID_B,
		good_text + strlen("id=" ID_A));
	plant(ID_B, text, strlen(text), 0664);
	plant("not-an-id", good_text, strlen(good_text), 0644);
	snprintf(path, sizeof(path), "%s/%s", sess_dir,
		"33333333333333333333333333333333");
	ck_assert_int_eq(mkdir(path, 0755), 0);

	ck_assert_int_eq(ag_session_foreach(run_dir, collect, &v), 0);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_str_eq(v.ids[0], ID_A);
}
END_TEST

START_TEST(foreach_stops_when_the_callback_says_so)
{
	struct seen v = { .stop_with = 7 };
	struct ag_session s;

	NEED_ROOT();
	fill_max(&s);
	ck_assert_int_eq(ag_session_write(&cfg, &s), 0);
	strcpy(s.id, ID_B);
	ck_assert_int_eq(ag_session_write(&cfg, &s), 0);
	ck_assert_int_eq(ag_session_foreach(run_dir, collect, &v), 7);
	ck_assert_uint_eq(v.n, 1);
}
END_TEST

START_TEST(foreach_without_a_registry_sees_nothing)
{
	struct seen v = { 0 };
	char missing[400];

	snprintf(missing, sizeof(missing), "%s/nowhere", tmpdir);
	ck_assert_int_eq(ag_session_foreach(missing, collect, &v), 0);
	ck_assert_uint_eq(v.n, 0);
}
END_TEST

START_TEST(foreach_refuses_an_untrusted_registry)
{
	struct seen v = { 0 };
	struct ag_session s;

	NEED_ROOT();
	fill_max(&s);
	ck_assert_int_eq(ag_session_write(&cfg, &s), 0);
	ck_assert_int_eq(chmod(sess_dir, 0777), 0);
	ck_assert_int_eq(ag_session_foreach(run_dir, collect, &v), -EPERM);
	ck_assert_int_eq(chmod(sess_dir, 0755), 0);
	ck_assert_int_eq(chown(sess_dir, 2147400001u, 0), 0);
	ck_assert_int_eq(ag_session_foreach(run_dir, collect, &v), -EPERM);
	ck_assert_uint_eq(v.n, 0);
}
END_TEST

START_TEST(starttime_of_self_and_of_no_process)
{
	uint64_t a = 0, b = 0, untouched = 99;

	ck_assert_int_eq(ag_proc_starttime(getpid(), &a), 0);
	ck_assert_int_eq(ag_proc_starttime(getpid(), &b), 0);
	ck_assert(a == b && a > 0);
	ck_assert_int_eq(ag_proc_starttime(INT32_MAX, &untouched), -ENOENT);
	ck_assert(untouched == 99);
}
END_TEST

/*
 * PATH at size 0 and one byte short: refused before any group is
 * made, PATH untouched.  Exact: a child of ours is placed, then the
 * group is removed again.  -ENOENT on hosts without cgroup v2.
 */
START_TEST(cgroup_place_checks_the_path_buffer)
{
	const size_t need = strlen(AG_CGROUP_PARENT "/" ID_A) + 1;
	char path[128], mount[4096];
	pid_t child;
	int r;

	NEED_ROOT();
	if (ag_cgroup_mount(mount, sizeof(mount)) < 0)
		return;
	memset(path, 'x', sizeof(path));
	ck_assert_int_eq(ag_cgroup_place(ID_A, getpid(), path, 0),
		-ENAMETOOLONG);
	ck_assert_int_eq(ag_cgroup_place(ID_A, getpid(), path, need - 1),
		-ENAMETOOLONG);
	ck_assert_int_eq(path[0], 'x');
	ck_assert_int_eq(ag_cgroup_populated(mount, AG_CGROUP_PARENT "/"
		ID_A), -ENOENT);

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	r = ag_cgroup_place(ID_A, child, path, need);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (r == -EROFS || r == -EACCES)
		return;		/* a read-only cgroup2 in a container */
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(path, AG_CGROUP_PARENT "/" ID_A);
	ck_assert_int_eq(ag_cgroup_remove(mount, path), 0);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("registry");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_keeps_every_field_at_its_limit);
	tcase_add_test(tc, round_trip_of_a_minimal_session);
	tcase_add_test(tc, writer_makes_the_registry_private_to_root);
	tcase_add_test(tc, writer_refuses_a_registry_root_does_not_own);
	tcase_add_test(tc, rewrite_replaces_the_record);
	tcase_add_test(tc, older_record_without_iat_reads_back);
	tcase_add_test(tc, iat_is_read_when_present);
	tcase_add_test(tc, record_truncated_at_every_length);
	tcase_add_loop_test(tc, corrupt_line_rejects_the_record, 0,
		AG_ARRAY_SIZE(bad));
	tcase_add_loop_test(tc, missing_required_key_rejects_the_record, 0,
		AG_ARRAY_SIZE(required));
	tcase_add_test(tc, unknown_keys_are_skipped_for_newer_writers);
	tcase_add_test(tc, malformed_id_user_or_bytes_are_rejected);
	tcase_add_test(tc, untrusted_owner_or_mode_is_refused);
	tcase_add_test(tc, writer_refuses_what_would_not_read_back);
	tcase_add_test(tc, remove_checks_the_id);
	tcase_add_test(tc, foreach_skips_bad_records);
	tcase_add_test(tc, foreach_stops_when_the_callback_says_so);
	tcase_add_test(tc, foreach_without_a_registry_sees_nothing);
	tcase_add_test(tc, foreach_refuses_an_untrusted_registry);
	tcase_add_test(tc, starttime_of_self_and_of_no_process);
	tcase_add_test(tc, cgroup_place_checks_the_path_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(session_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
