/* test_relay_conf_reload.c: SIGHUP's conf_reload re-reads the config file (users,
 * secrets, limits) and keeps no copy of what it read: a relay reloaded
 * every minute for a year must not grow. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "conf.h"

static char path[] = "/tmp/test_relay_conf_reload.XXXXXX";
static struct avedge_conf c;

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char err[256];
	int fd = mkstemp(path);
	char *argv[] = {"avedge", "--listen", "127.0.0.1:3478/udp", "--config", path, NULL};

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_conf("user = alice:secret\n"
		   "user = \"bob:pass with spaces\"\n"
		   "auth-secret = s3cret\n"
		   "software = a-long-enough-software-name-to-notice/1.0\n"
		   "quota-user = 7\n");
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(conf_parse_args(&c, 5, argv), 0);
	ck_assert_msg(conf_build(&c, err, sizeof err) == 0, "conf_build: %s", err);
}

static void teardown(void)
{
	conf_free(&c);
	unlink(path);
	strcpy(path, "/tmp/test_relay_conf_reload.XXXXXX");
}

START_TEST(reload_applies_the_file)
{
	char err[256];

	ck_assert_uint_eq(c.quota_user, 7);
	write_conf("user = alice:secret\nquota-user = 9\n");
	ck_assert_msg(conf_reload(&c, err, sizeof err) == 0, "reload: %s", err);
	ck_assert_uint_eq(c.quota_user, 9);
}
END_TEST

START_TEST(bad_reload_keeps_the_old)
{
	char err[256] = "";

	write_conf("quota-user = many\n");
	ck_assert_int_eq(conf_reload(&c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path) != NULL, "error names the file: %s", err);
	ck_assert_uint_eq(c.quota_user, 7);
}
END_TEST

/* Heap in use after 2000 reloads is what it was before them: the strings
 * each reading keeps while it builds the auth table are freed, and so is
 * each rebuilt peer filter. The warm-up is long because libnl and malloc
 * settle over the first thousand or so reads of the routing table (then
 * they grow by 0 bytes per 2000). */
START_TEST(reload_does_not_grow)
{
	char err[256];
	size_t before, after;

	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(conf_reload(&c, err, sizeof err), 0);
	before = mallinfo2().uordblks;
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(conf_reload(&c, err, sizeof err), 0);
	after = mallinfo2().uordblks;
	/* 2000 readings of five values kept would be ~200 KiB. */
	ck_assert_msg(after <= before + 4096, "heap grew from %zu to %zu bytes over 2000 reloads",
		      before, after);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("relay_conf_reload");
	TCase *tc = tcase_create("reload");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reload_applies_the_file);
	tcase_add_test(tc, bad_reload_keeps_the_old);
	tcase_add_test(tc, reload_does_not_grow);
	suite_add_tcase(s, tc);
	return s;
}
