/*
 * hub_mail.h — one plain-text e-mail through the company's SMTP relay (libcurl: smtp://,
 * upgraded with STARTTLS when the relay offers it, or smtps://). Used for budget alerts
 * (hub_alert_mail.h); hub.conf smtp_url, smtp_from, smtp_user, smtp_password.
 *
 * Addresses are plain local@domain (no display names, no comments), checked before use, so
 * nothing a caller passes can add a header or a recipient. Subjects are single-line (CR, LF
 * and other control characters become spaces) and RFC 2047-encoded when not ASCII.
 */
#ifndef HUB_MAIL_H
#define HUB_MAIL_H

#include "hub_buf.h"

#include <stdbool.h>
#include <stddef.h>

#define HUB_MAIL_ADDR_MAX 254 /* RFC 5321 path limit */
#define HUB_MAIL_TO_MAX   16

typedef struct {
    char addr[HUB_MAIL_TO_MAX][HUB_MAIL_ADDR_MAX + 1];
    int n;
} hub_mail_rcpts;

/* The relay; every field borrowed. user/password empty: no SMTP AUTH. */
typedef struct {
    const char *url;
    const char *from;
    const char *user;
    const char *password;
} hub_mail_relay;

/* True when addr is local@domain with characters safe in a header and an SMTP path. */
bool hub_mail_addr_ok(const char *addr);
/* Parses a comma-separated list ("a@x, b@y") into *out. false (and err) on a malformed
 * address, an empty list or more than HUB_MAIL_TO_MAX addresses. */
bool hub_mail_rcpts_parse(const char *list, hub_mail_rcpts *out, char *err, size_t errsz);
/* Appends the whole message (RFC 5322 headers, CRLF line ends, UTF-8 body) to out: From,
 * To, Subject, Date (now_s, UTC), Message-ID, MIME headers, then body ('\n' → CRLF). */
bool hub_mail_compose(const char *from, const hub_mail_rcpts *to, const char *subject,
                      const char *body, long long now_s, hub_buf *out);
/* Composes and sends. false and a message (never the password) in err on failure. */
bool hub_mail_send(const hub_mail_relay *relay, const hub_mail_rcpts *to, const char *subject,
                   const char *body, char *err, size_t errsz);

#endif
