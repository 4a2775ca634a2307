/* test_mras.c: MRAS ([MS-AVEDGEA]) without sockets: the stateless
 * credentials (issued, checked against an HMAC computed here, accepted,
 * expired, refused under another secret), the SIP SERVICE parse and its
 * answers (200, 405, 415), the credentialsRequest parse and the
 * credentialsResponse built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "check_main.h"
#include "mras/cred.h"
#include "mras/sip.h"
#include "mras/xml.h"

#define NOW 1700000000ull

/* ---- credentials ---- */

START_TEST(cred_wire_form)
{
	struct mras_cred c;
	char user[512], pass[512], want[64];
	unsigned char mac[20];
	unsigned maclen = 0;

	ck_assert_int_eq(mras_cred_issue("pool-secret", "sip:alice@edge.lab", NOW, 480, &c), 0);
	/* The user name unwraps to REST's EXPIRY:NAME, EXPIRY 480 min on. */
	ck_assert_int_gt(mras_cred_decode(c.user, user, sizeof user), 0);
	snprintf(want, sizeof want, "%llu:sip:alice@edge.lab", NOW + 480 * 60);
	ck_assert_str_eq(user, want);
	/* The password unwraps to base64(HMAC-SHA1(secret, user)), computed
	 * here with OpenSSL directly. */
	ck_assert_int_eq(mras_cred_decode(c.pass, pass, sizeof pass), 28);
	HMAC(EVP_sha1(), "pool-secret", 11, (const unsigned char *)user, strlen(user), mac, &maclen);
	ck_assert_uint_eq(maclen, 20);
	EVP_EncodeBlock((unsigned char *)want, mac, 20);
	ck_assert_str_eq(pass, want);
}
END_TEST

START_TEST(cred_verify)
{
	struct mras_cred c, forged;

	ck_assert_int_eq(mras_cred_issue("pool-secret", "sip:bob@edge.lab", NOW, 10, &c), 0);
	ck_assert_int_eq(mras_cred_verify("pool-secret", &c, NOW), MRAS_CRED_OK);
	ck_assert_int_eq(mras_cred_verify("pool-secret", &c, NOW + 599), MRAS_CRED_OK);
	ck_assert_int_eq(mras_cred_verify("pool-secret", &c, NOW + 600), MRAS_CRED_EXPIRED);
	ck_assert_int_eq(mras_cred_verify("other-secret", &c, NOW), MRAS_CRED_WRONG);
	/* Another name with this password: refused. */
	ck_assert_int_eq(mras_cred_issue("pool-secret", "sip:eve@edge.lab", NOW, 10, &forged), 0);
	memcpy(forged.pass, c.pass, sizeof c.pass);
	ck_assert_int_eq(mras_cred_verify("pool-secret", &forged, NOW), MRAS_CRED_WRONG);
	/* Not base64 at all. */
	strcpy(forged.user, "!!!!");
	ck_assert_int_eq(mras_cred_verify("pool-secret", &forged, NOW), MRAS_CRED_WRONG);
}
END_TEST

START_TEST(cred_refused)
{
	struct mras_cred c;
	char longname[MRAS_NAME_MAX + 2];

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ck_assert_int_eq(mras_cred_issue("", "sip:a@b", NOW, 10, &c), -1);
	ck_assert_int_eq(mras_cred_issue("s", "", NOW, 10, &c), -1);
	ck_assert_int_eq(mras_cred_issue("s", longname, NOW, 10, &c), -1);
	longname[MRAS_NAME_MAX] = 0;
	ck_assert_int_eq(mras_cred_issue("s", longname, NOW, 10, &c), 0);
}
END_TEST

/* ---- SIP ---- */

static const char body_ok[] =
	"<request requestID=\"42\" from=\"sip:fe@edge.lab\" version=\"1.0\" "
	"to=\"sip:edge.lab@edge.lab;gruu;opaque=srvr:MRAS:x\" "
	"xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\">"
	"<credentialsRequest credentialsRequestID=\"7\">"
	"<identity>sip:alice@edge.lab</identity><location>internet</location>"
	"<duration>600</duration></credentialsRequest></request>";

static char *sip_request(const char *method, const char *ctype, const char *body)
{
	char *s = malloc(4096);
	snprintf(s, 4096,
		 "%s sip:edge.lab@edge.lab;gruu;opaque=srvr:MRAS:x SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.9:5061;branch=z9hG4bKabc\r\n"
		 "From: <sip:fe@edge.lab>;tag=f1\r\n"
		 "To: <sip:edge.lab@edge.lab;gruu;opaque=srvr:MRAS:x>\r\n"
		 "Call-ID: c0ffee@192.0.2.9\r\n"
		 "CSeq: 1 %s\r\n"
		 "Max-Forwards: 70\r\n"
		 "%s%s%s"
		 "Content-Length: %zu\r\n\r\n%s",
		 method, method, ctype ? "Content-Type: " : "", ctype ? ctype : "",
		 ctype ? "\r\n" : "", strlen(body), body);
	return s;
}

START_TEST(sip_frame)
{
	char *s = sip_request("SERVICE", MRAS_CONTENT_TYPE, body_ok);
	size_t n = strlen(s);

	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, n), (ssize_t)n);
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, 40), 0); /* headers not done */
	/* A frame followed by the next one's first bytes: the first alone. */
	s = realloc(s, 2 * n + 1);
	memcpy(s + n, s, n);
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, 2 * n), (ssize_t)n);
	free(s);
	/* Headers that never end within the cap: garbage. */
	s = calloc(1, MRAS_SIP_MAX + 2);
	memset(s, 'a', MRAS_SIP_MAX + 1);
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, MRAS_SIP_MAX + 1), -1);
	free(s);
	/* Headers osip cannot read: the block alone, to be refused upstairs. */
	s = strdup("hello world\r\n\r\nmore");
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, strlen(s)), 15);
	free(s);
	/* A Content-Length past the cap. */
	s = strdup("SERVICE sip:a@b SIP/2.0\r\nContent-Length: 99999\r\n\r\n");
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)s, strlen(s)), -1);
	free(s);
}
END_TEST

START_TEST(sip_parse_and_answer)
{
	char *s = sip_request("SERVICE", MRAS_CONTENT_TYPE, body_ok), *out = NULL;
	struct mras_sip_req r;
	size_t n;

	ck_assert_int_eq(mras_sip_parse(&r, s, strlen(s)), MRAS_SIP_OK);
	ck_assert_uint_eq(r.body_len, strlen(body_ok));
	ck_assert(!memcmp(r.body, body_ok, r.body_len));
	ck_assert_int_eq(mras_sip_answer(&r, 200, "OK", MRAS_SIP_OK, "<x/>", 4, &out, &n), 0);
	ck_assert_uint_eq(strlen(out), n);
	ck_assert_msg(!strncmp(out, "SIP/2.0 200 OK\r\n", 16), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "branch=z9hG4bKabc"));
	ck_assert_ptr_nonnull(strstr(out, "c0ffee@192.0.2.9"));
	ck_assert_ptr_nonnull(strstr(out, "1 SERVICE"));
	ck_assert_ptr_nonnull(strstr(out, "tag=mras")); /* the To got a tag */
	ck_assert_ptr_nonnull(strstr(out, MRAS_CONTENT_TYPE));
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\n<x/>"));
	ck_assert_int_eq(mras_sip_frame_len((const uint8_t *)out, n), (ssize_t)n);
	free(out);
	mras_sip_free(&r);
	free(s);
}
END_TEST

START_TEST(sip_wrong_method)
{
	char *s = sip_request("MESSAGE", MRAS_CONTENT_TYPE, body_ok), *out;
	struct mras_sip_req r;
	size_t n;

	ck_assert_int_eq(mras_sip_parse(&r, s, strlen(s)), MRAS_SIP_BAD_METHOD);
	ck_assert_int_eq(mras_sip_answer(&r, 405, "Method Not Allowed", MRAS_SIP_BAD_METHOD, NULL,
					 0, &out, &n), 0);
	ck_assert_msg(!strncmp(out, "SIP/2.0 405 Method Not Allowed\r\n", 32), "%s", out);
	ck_assert_ptr_nonnull(strcasestr(out, "Allow: SERVICE"));
	ck_assert_ptr_nonnull(strcasestr(out, "Content-Length: 0"));
	free(out);
	mras_sip_free(&r);
	free(s);
}
END_TEST

START_TEST(sip_wrong_type)
{
	static const char *const types[] = {"application/sdp", "text/xml", NULL};

	for (int i = 0; i < 3; i++) {
		char *s = sip_request("SERVICE", types[i], body_ok), *out;
		struct mras_sip_req r;
		size_t n;

		ck_assert_int_eq(mras_sip_parse(&r, s, strlen(s)), MRAS_SIP_BAD_TYPE);
		ck_assert_int_eq(mras_sip_answer(&r, 415, "Unsupported Media Type",
						 MRAS_SIP_BAD_TYPE, NULL, 0, &out, &n), 0);
		ck_assert(!strncmp(out, "SIP/2.0 415 Unsupported Media Type\r\n", 36));
		ck_assert_ptr_nonnull(strcasestr(out, "Accept: " MRAS_CONTENT_TYPE));
		free(out);
		mras_sip_free(&r);
		free(s);
	}
}
END_TEST

START_TEST(sip_not_sip)
{
	static const char *const bad[] = {
		"hello world\r\n\r\n",
		"SERVICE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n", /* no Via, From, ... */
	};
	struct mras_sip_req r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(mras_sip_parse(&r, bad[i], strlen(bad[i])), MRAS_SIP_NOT_SIP);
		mras_sip_free(&r);
	}
	{
		const char *resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\r\n"
				   "Content-Length: 0\r\n\r\n";
		ck_assert_int_eq(mras_sip_parse(&r, resp, strlen(resp)), MRAS_SIP_RESPONSE);
		mras_sip_free(&r);
	}
}
END_TEST

/* ---- XML ---- */

START_TEST(xml_request_ok)
{
	struct mras_creq q;
	const char *why = NULL;

	ck_assert_int_eq(mras_xml_parse(body_ok, strlen(body_ok), &q, &why), MRAS_R_OK);
	ck_assert_str_eq(q.request_id, "42");
	ck_assert_str_eq(q.version, "1.0");
	ck_assert_str_eq(q.from, "sip:fe@edge.lab");
	ck_assert_str_eq(q.creq_id, "7");
	ck_assert_str_eq(q.identity, "sip:alice@edge.lab");
	ck_assert_int_eq(q.location, MRAS_LOC_INTERNET);
	ck_assert_uint_eq(q.duration, 600);
}
END_TEST

static enum mras_reason parse_edit(const char *from, const char *to)
{
	char buf[2048];
	const char *at = strstr(body_ok, from), *why = NULL;
	struct mras_creq q;

	ck_assert_ptr_nonnull(at);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - body_ok), body_ok, to, at + strlen(from));
	return mras_xml_parse(buf, strlen(buf), &q, &why);
}

START_TEST(xml_request_bad)
{
	const char *why = NULL;
	struct mras_creq q;
	static const char xxe[] =
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		"<request xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\">&e;</request>";

	ck_assert_int_eq(mras_xml_parse("<request", 8, &q, &why), MRAS_R_MALFORMED);
	ck_assert_int_eq(mras_xml_parse("", 0, &q, &why), MRAS_R_MALFORMED);
	ck_assert_int_eq(mras_xml_parse(xxe, strlen(xxe), &q, &why), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("<identity>sip:alice@edge.lab</identity>", ""), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("<location>internet</location>", ""), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("internet", "moon"), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("<duration>600</duration>", ""), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("600", "0"), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("600", "-5"), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("600", "ten"), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit(" credentialsRequestID=\"7\"", ""), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("requestID=\"42\" ", ""), MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("http://schemas.microsoft.com/2006/09/sip/mrasp", "urn:x"),
			 MRAS_R_MALFORMED);
	ck_assert_int_eq(parse_edit("version=\"1.0\"", "version=\"9.0\""), MRAS_R_VERSION);
	ck_assert_int_eq(parse_edit("version=\"1.0\"", "version=\"2.0\""), MRAS_R_OK);
	ck_assert_int_eq(parse_edit("internet", "intranet"), MRAS_R_OK);
}
END_TEST

START_TEST(xml_response)
{
	struct mras_creq q;
	struct mras_cred c = {"dXNlcg==", "cGFzcw=="};
	struct mras_relay relays[2] = {
		{MRAS_LOC_INTERNET, "av.edge.lab", 3478, 443},
		{MRAS_LOC_INTRANET, "av-int.edge.lab", 3478, 0},
	};
	const char *why;
	char *out;
	size_t n;

	ck_assert_int_eq(mras_xml_parse(body_ok, strlen(body_ok), &q, &why), MRAS_R_OK);
	ck_assert_int_eq(mras_xml_response(&q, MRAS_R_OK, &c, 480, relays, 2, &out, &n), 0);
	ck_assert_uint_eq(strlen(out), n);
	ck_assert_ptr_nonnull(strstr(out, "<response xmlns=\"" MRAS_NS "\" requestID=\"42\" "
					  "version=\"1.0\" serverVersion=\"2.0\" "
					  "to=\"sip:fe@edge.lab\""));
	ck_assert_ptr_nonnull(strstr(out, "reasonPhrase=\"OK\""));
	ck_assert_ptr_nonnull(strstr(out, "<credentialsResponse credentialsRequestID=\"7\">"
					  "<credentials><username>dXNlcg==</username>"
					  "<password>cGFzcw==</password><duration>480</duration>"
					  "</credentials><mediaRelayList><mediaRelay>"
					  "<location>internet</location><hostName>av.edge.lab</hostName>"
					  "<udpPort>3478</udpPort><tcpPort>443</tcpPort></mediaRelay>"
					  "<mediaRelay><location>intranet</location>"
					  "<hostName>av-int.edge.lab</hostName><udpPort>3478</udpPort>"
					  "</mediaRelay></mediaRelayList></credentialsResponse>"));
	free(out);
	/* An error: the reason alone. */
	ck_assert_int_eq(mras_xml_response(NULL, MRAS_R_MALFORMED, NULL, 0, NULL, 0, &out, &n), 0);
	ck_assert_ptr_nonnull(strstr(out, "reasonPhrase=\"Request Malformed\""));
	ck_assert_ptr_null(strstr(out, "credentialsResponse"));
	ck_assert_ptr_null(strstr(out, "requestID"));
	free(out);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("mras");
	TCase *tc = tcase_create("all");

	mras_sip_init();
	mras_xml_init();
	tcase_add_test(tc, cred_wire_form);
	tcase_add_test(tc, cred_verify);
	tcase_add_test(tc, cred_refused);
	tcase_add_test(tc, sip_frame);
	tcase_add_test(tc, sip_parse_and_answer);
	tcase_add_test(tc, sip_wrong_method);
	tcase_add_test(tc, sip_wrong_type);
	tcase_add_test(tc, sip_not_sip);
	tcase_add_test(tc, xml_request_ok);
	tcase_add_test(tc, xml_request_bad);
	tcase_add_test(tc, xml_response);
	suite_add_tcase(s, tc);
	return s;
}
