/* test_io_ports.c: the relay port range (io/ports.c) on a loopback
 * address of its own. Busy ports are skipped and the whole range is still
 * found; a full range says EADDRINUSE and leaves no descriptor behind; an
 * address the host does not have fails at once, not after a bind per
 * port; EVEN-PORT pairs skip an even port whose odd neighbour is busy; TCP
 * claims come back on release; the search starts at random. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "io/ports.h"

#define LO 47000
#define SPAN 16

static struct port_range range(const char *ip)
{
	struct port_range r = {.lo = LO, .hi = LO + SPAN - 1, .has = {1, 0}};
	struct sockaddr_in *sin = (struct sockaddr_in *)&r.bind[0];

	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return r;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static int occupy(const char *ip, int type, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, type, 0);

	inet_pton(AF_INET, ip, &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

START_TEST(busy_ports_skipped_full_range_found)
{
	struct port_range r = range("127.93.17.5");
	int busy[3] = {LO + 2, LO + 3, LO + 11}, held[3], fds[SPAN], seen[SPAN] = {0};
	int n = 0, fd, port, before;

	for (int i = 0; i < 3; i++)
		held[i] = occupy("127.93.17.5", SOCK_DGRAM, busy[i]);
	before = open_fds();
	while ((fd = ports_bind_udp(&r, 0, 0, 0, &port, NULL)) >= 0) {
		ck_assert_int_ge(port, LO);
		ck_assert_int_lt(port, LO + SPAN);
		ck_assert_msg(!seen[port - LO], "port %d given twice", port);
		for (int i = 0; i < 3; i++)
			ck_assert_int_ne(port, busy[i]);
		seen[port - LO] = 1;
		fds[n++] = fd;
	}
	ck_assert_int_eq(fd, -EADDRINUSE);
	ck_assert_int_eq(n, SPAN - 3);
	/* The failed search kept nothing open. */
	ck_assert_int_eq(open_fds(), before + n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int i = 0; i < 3; i++)
		close(held[i]);
}
END_TEST

START_TEST(missing_address_fails_at_once)
{
	struct port_range r = range("192.0.2.1"); /* TEST-NET-1: not on this host */
	int port, before = open_fds();

	ck_assert_int_eq(ports_bind_udp(&r, 0, 0, 0, &port, NULL), -EADDRNOTAVAIL);
	ck_assert_int_eq(ports_listen_tcp(&r, 0, &port), -EADDRNOTAVAIL);
	ck_assert_int_eq(open_fds(), before);
	/* The TCP claim went back: the same range works on a real address. */
	r = range("127.93.17.5");
	for (int i = 0; i < SPAN; i++) {
		int fd = ports_listen_tcp(&r, 0, &port);
		ck_assert_int_ge(fd, 0);
		close(fd);
		ports_release_tcp(port);
	}
}
END_TEST

START_TEST(even_pairs_skip_a_busy_neighbour)
{
	struct port_range r = range("127.93.17.5");
	int held[SPAN / 2], n = 0, fd, pair, port;

	/* Every odd port busy but the one after LO + 8: only LO + 8 pairs. */
	for (int p = LO + 1; p < LO + SPAN; p += 2)
		if (p != LO + 9)
			held[n++] = occupy("127.93.17.5", SOCK_DGRAM, p);
	for (int i = 0; i < 8; i++) {
		fd = ports_bind_udp(&r, 0, 1, 0, &port, &pair);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(port, LO + 8);
		close(fd);
		close(pair);
	}
	for (int i = 0; i < n; i++)
		close(held[i]);
}
END_TEST

START_TEST(tcp_claims_fill_and_release)
{
	struct port_range r = range("127.93.17.5");
	int fds[SPAN], ports[SPAN], port;

	for (int i = 0; i < SPAN; i++) {
		fds[i] = ports_listen_tcp(&r, 0, &ports[i]);
		ck_assert_int_ge(fds[i], 0);
	}
	ck_assert_int_eq(ports_listen_tcp(&r, 0, &port), -EADDRINUSE);
	close(fds[5]);
	ports_release_tcp(ports[5]);
	fds[5] = ports_listen_tcp(&r, 0, &port);
	ck_assert_int_ge(fds[5], 0);
	ck_assert_int_eq(port, ports[5]);
	for (int i = 0; i < SPAN; i++) {
		close(fds[i]);
		ports_release_tcp(ports[i]);
	}
}
END_TEST

START_TEST(search_starts_at_random)
{
	struct port_range r = range("127.93.17.5");
	int seen[SPAN] = {0}, distinct = 0, port;

	for (int i = 0; i < 200; i++) {
		int fd = ports_bind_udp(&r, 0, 0, 0, &port, NULL);
		ck_assert_int_ge(fd, 0);
		close(fd);
		distinct += !seen[port - LO]++;
	}
	/* 200 draws over 16 ports: all of them, short of a broken supply. */
	ck_assert_int_eq(distinct, SPAN);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io_ports");
	TCase *tc = tcase_create("ports");

	tcase_add_test(tc, busy_ports_skipped_full_range_found);
	tcase_add_test(tc, missing_address_fails_at_once);
	tcase_add_test(tc, even_pairs_skip_a_busy_neighbour);
	tcase_add_test(tc, tcp_claims_fill_and_release);
	tcase_add_test(tc, search_starts_at_random);
	suite_add_tcase(s, tc);
	return s;
}
