/* test_util_config.c: `key = value` files, and errors that name file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "util/config.h"

struct seen {
	int n;
	char key[16][64];
	char value[16][128];
};

static int apply(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct seen *s = ctx;
	static const char *const known[] = {"realm", "user", "listen", "verbose",
					    "allow-peer", "quota-user", "auth_secret"};
	size_t i;

	for (i = 0; i < sizeof known / sizeof *known; i++)
		if (!strcmp(key, known[i]))
			break;
	if (i == sizeof known / sizeof *known) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return -1;
	}
	if (!strcmp(key, "quota-user") && strspn(value, "0123456789") != strlen(value)) {
		snprintf(err, errlen, "quota-user: '%s' is not a number", value);
		return -1;
	}
	if (!strcmp(key, "listen") && !*value)
		return -1; /* no reason given */
	ck_assert_int_lt(s->n, 16);
	snprintf(s->key[s->n], sizeof s->key[0], "%s", key);
	snprintf(s->value[s->n], sizeof s->value[0], "%s", value);
	s->n++;
	return 0;
}

static char dir[64], path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/test_util_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/avedge.conf", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}
#define WRITE(text) write_file(text, sizeof(text) - 1)

static void expect_error(const char *text, size_t len, int line, const char *reason)
{
	struct seen s = {0};
	char err[512], want[512];

	write_file(text, len);
	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:%d: %s", path, line, reason);
	ck_assert_str_eq(err, want);
}
#define EXPECT_ERROR(text, line, reason) expect_error(text, sizeof(text) - 1, line, reason)

START_TEST(good_file)
{
	struct seen s = {0};
	char err[256] = "untouched";

	WRITE("\xef\xbb\xbf# avedge lab config\n"
	      "\n"
	      "realm = lab.example\n"
	      "   user=alice:wonder#land   \r\n"
	      "\t# indented comment\n"
	      "listen = 203.0.113.12:3478/udp\n"
	      "user = \"bob:pass with  spaces \"\n"
	      "user = \"quote\\\"and\\\\back\"  \n"
	      "verbose\n"
	      "allow-peer =\n"
	      "--quota-user = 10\n"
	      "auth_secret = \"\"\n"
	      "realm = last");
	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(s.n, 10);
	ck_assert_str_eq(s.key[0], "realm");
	ck_assert_str_eq(s.value[0], "lab.example");
	ck_assert_str_eq(s.key[1], "user");
	ck_assert_str_eq(s.value[1], "alice:wonder#land");
	ck_assert_str_eq(s.value[2], "203.0.113.12:3478/udp");
	ck_assert_str_eq(s.value[3], "bob:pass with  spaces ");
	ck_assert_str_eq(s.value[4], "quote\"and\\back");
	ck_assert_str_eq(s.key[5], "verbose");
	ck_assert_str_eq(s.value[5], "");
	ck_assert_str_eq(s.key[6], "allow-peer");
	ck_assert_str_eq(s.value[6], "");
	ck_assert_str_eq(s.key[7], "quota-user");
	ck_assert_str_eq(s.value[7], "10");
	ck_assert_str_eq(s.value[8], "");
	ck_assert_str_eq(s.value[9], "last");
}
END_TEST

START_TEST(empty_file)
{
	struct seen s = {0};
	char err[256];

	WRITE("");
	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), 0);
	WRITE("# only\n\n   \n# comments\n");
	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), 0);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(bad_lines)
{
	EXPECT_ERROR("realm = x\n= value\n", 2, "missing key before '='");
	EXPECT_ERROR("realm = x\n# c\n\n  =\n", 4, "missing key before '='");
	EXPECT_ERROR("realm = x\nbogus = 1\n", 2, "unknown option 'bogus'");
	EXPECT_ERROR("\n\n\nquota-user = lots\n", 4, "quota-user: 'lots' is not a number");
	EXPECT_ERROR("listen\n", 1, "invalid setting");
	EXPECT_ERROR("user = \"alice:pw\n", 1, "unterminated quoted value");
	EXPECT_ERROR("user = \"alice\" pw\n", 1, "unexpected text after the closing quote");
	EXPECT_ERROR("re alm = x\n", 1, "bad character in key (want letters, digits, '-', '_')");
	EXPECT_ERROR("realm: x\n", 1, "bad character in key (want letters, digits, '-', '_')");
	EXPECT_ERROR("-- = x\n", 1, "missing key before '='");
	EXPECT_ERROR("realm = x\nuser = a\0b\n", 2, "NUL byte in line");
}
END_TEST

START_TEST(stops_at_first_error)
{
	struct seen s = {0};
	char err[256];

	WRITE("realm = a\nnope = 1\nrealm = b\n");
	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), -1);
	ck_assert_int_eq(s.n, 1);
}
END_TEST

START_TEST(missing_file)
{
	struct seen s = {0};
	char err[256], want[256];

	ck_assert_int_eq(config_load(path, apply, &s, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(config_load(dir, apply, &s, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: read error: Is a directory", dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(config_load("", apply, &s, err, sizeof err), -1);
	ck_assert_str_eq(err, "config: no file name given");
	/* a tiny error buffer is truncated, never overrun */
	ck_assert_int_eq(config_load(path, apply, &s, err, 8), -1);
	ck_assert_uint_eq(strlen(err), 7);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("util_config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_file);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, stops_at_first_error);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}
