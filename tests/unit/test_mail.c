/*
 * test_mail.c — the e-mail message of budget alerts (lib/hub_mail.c): address checks, the
 * recipient list, headers that nothing can inject into, RFC 2047 subjects, CRLF bodies.
 * (Sending is tested end to end against an SMTP server in tests/integration/test_alert_mail.py.)
 */
#include "hub_mail.h"
#include "tap.h"

#include <string.h>

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* true when every '\n' of s is preceded by '\r' */
static bool crlf_only(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\n' && (p == s || p[-1] != '\r'))
            return false;
    }
    return true;
}

static void addresses(void)
{
    TAP_CHECK(hub_mail_addr_ok("finops@example.test"), "a plain address is accepted");
    TAP_CHECK(hub_mail_addr_ok("a.b+c@mail.example.test"), "dots and plus in the local part");
    const char *bad[] = {"",
                         "no-at.example",
                         "@example.test",
                         "a@",
                         "a@@b",
                         "a@b@c",
                         ".a@b",
                         "a.@b",
                         "a@.b",
                         "a@b.",
                         "A <a@b>",
                         "a b@c",
                         "a@b\r\nBcc: x@y",
                         "a@b,c@d",
                         "\"q\"@b"};
    bool all = true;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        all = all && !hub_mail_addr_ok(bad[i]);
    TAP_CHECK(all, "display names, spaces, CR/LF, commas, quotes and misplaced dots are refused");
    char big[300];
    memset(big, 'a', sizeof(big));
    memcpy(big + 250, "@x.yz", 6);
    TAP_CHECK(!hub_mail_addr_ok(big), "an address over 254 characters is refused");
}

static void lists(void)
{
    hub_mail_rcpts r;
    char err[200];
    TAP_CHECK(
        hub_mail_rcpts_parse(" finops@example.test,lead@example.test ,, ", &r, err, sizeof(err)) &&
            r.n == 2 && strcmp(r.addr[0], "finops@example.test") == 0 &&
            strcmp(r.addr[1], "lead@example.test") == 0,
        "a comma-separated list with spaces and empty items");
    TAP_CHECK(!hub_mail_rcpts_parse("ok@example.test, not an address", &r, err, sizeof(err)) &&
                  strstr(err, "not an address") != NULL,
              "a malformed recipient is named in the error");
    TAP_CHECK(!hub_mail_rcpts_parse(" , ", &r, err, sizeof(err)), "an empty list is refused");
    char many[2000] = "";
    size_t at = 0;
    for (int i = 0; i <= HUB_MAIL_TO_MAX; i++)
        at += (size_t)snprintf(many + at, sizeof(many) - at, "x@example.test,");
    TAP_CHECK(!hub_mail_rcpts_parse(many, &r, err, sizeof(err)), "too many recipients");
}

static void message(void)
{
    hub_mail_rcpts to;
    char err[200];
    hub_buf m;
    hub_mail_rcpts_parse("finops@example.test, lead@example.test", &to, err, sizeof(err));
    hub_buf_init(&m, 0);
    bool ok = hub_mail_compose("hub@example.test", &to, "Budget alert\r\nBcc: evil@example.test",
                               "line one\nline two\r\n.\n", 1795000000, &m);
    TAP_CHECK(ok && crlf_only(m.data), "the message is composed with CRLF line ends only");
    TAP_CHECK(strstr(m.data, "From: hub@example.test\r\n") != NULL &&
                  strstr(m.data, "To: finops@example.test,\r\n lead@example.test\r\n") != NULL,
              "From and To headers (one folded To for all recipients)");
    TAP_CHECK(strstr(m.data, "Subject: Budget alert  Bcc: evil@example.test\r\n") != NULL &&
                  count(m.data, "\nBcc:") == 0,
              "CR/LF in a subject cannot add a header");
    TAP_CHECK(strstr(m.data, "Date: Wed, 18 Nov 2026 11:06:40 +0000\r\n") != NULL,
              "Date in RFC 5322 form, UTC");
    TAP_CHECK(strstr(m.data, "Message-ID: <") != NULL &&
                  strstr(m.data, "Content-Type: text/plain; charset=UTF-8\r\n") != NULL &&
                  strstr(m.data, "Auto-Submitted: auto-generated\r\n") != NULL,
              "Message-ID, MIME type and Auto-Submitted headers");
    const char *b = strstr(m.data, "\r\n\r\n");
    TAP_CHECK(b != NULL && strcmp(b + 4, "line one\r\nline two\r\n.\r\n") == 0,
              "the body follows one empty line, '\\n' turned into CRLF");
    hub_buf_reset(&m);
    /* 70 × "é" (2 bytes each) = 140 bytes: several encoded words, none over 75 characters */
    char subj[200] = "Budget ";
    for (size_t i = 0, at = strlen(subj); i < 70; i++, at += 2)
        memcpy(subj + at, "\xc3\xa9", 3);
    ok = hub_mail_compose("hub@example.test", &to, subj, "x", 0, &m);
    const char *s = strstr(m.data, "Subject: =?UTF-8?B?");
    bool short_words = s != NULL;
    for (const char *w = s != NULL ? strstr(s, "=?") : NULL; w != NULL; w = strstr(w + 2, "=?")) {
        const char *e = strstr(w + 2, "?=");
        short_words = short_words && e != NULL && e + 2 - w <= 75;
        w = e;
        if (w == NULL)
            break;
    }
    TAP_CHECK(ok && short_words && count(s != NULL ? s : "", "=?UTF-8?B?") == 4,
              "a non-ASCII subject becomes RFC 2047 words of at most 75 characters");
    hub_buf_reset(&m);
    char longsubj[400];
    memset(longsubj, 'a', sizeof(longsubj));
    memcpy(longsubj + 199, "\xc3\xa9", 2); /* a 2-byte character across the 200-byte cut */
    longsubj[sizeof(longsubj) - 1] = '\0';
    ok = hub_mail_compose("hub@example.test", &to, longsubj, "x", 0, &m);
    s = strstr(m.data, "Subject: ");
    TAP_CHECK(ok && s != NULL && strstr(s, "\r\n") - (s + 9) <= 200 &&
                  strstr(m.data, "\xc3\r") == NULL,
              "a long subject is cut to 200 bytes without splitting a character");
    hub_buf_reset(&m);
    TAP_CHECK(!hub_mail_compose("not an address", &to, "s", "b", 0, &m),
              "a malformed sender is refused");
    hub_buf_free(&m);
}

int main(void)
{
    addresses();
    lists();
    message();
    return tap_done();
}
