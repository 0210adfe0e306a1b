/*
 * hub_mail.c — plain-text e-mail through an SMTP relay with libcurl (see hub_mail.h).
 */
#include "hub_mail.h"

#include "hub_uuid.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEND_TIMEOUT_MS    15000
#define CONNECT_TIMEOUT_MS 5000
#define SUBJECT_MAX        200 /* bytes of subject text kept */

/* ---- addresses ---- */

static bool local_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static bool domain_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

bool hub_mail_addr_ok(const char *addr)
{
    const char *at = addr != NULL ? strchr(addr, '@') : NULL;
    size_t len = addr != NULL ? strlen(addr) : 0;
    if (at == NULL || at == addr || at[1] == '\0' || len > HUB_MAIL_ADDR_MAX ||
        strchr(at + 1, '@') != NULL || addr[0] == '.' || at[-1] == '.' || at[1] == '.' ||
        addr[len - 1] == '.')
        return false;
    for (const char *p = addr; p < at; p++) {
        if (!local_char((unsigned char)*p))
            return false;
    }
    for (const char *p = at + 1; *p != '\0'; p++) {
        if (!domain_char((unsigned char)*p))
            return false;
    }
    return true;
}

bool hub_mail_rcpts_parse(const char *list, hub_mail_rcpts *out, char *err, size_t errsz)
{
    bool ok = false;
    const char *p = list != NULL ? list : "";
    memset(out, 0, sizeof(*out));
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0)
            break;
        if (out->n == HUB_MAIL_TO_MAX) {
            snprintf(err, errsz, "more than %d addresses", HUB_MAIL_TO_MAX);
            goto end;
        }
        char *a = out->addr[out->n];
        if (n > HUB_MAIL_ADDR_MAX) {
            snprintf(err, errsz, "an address is longer than %d characters", HUB_MAIL_ADDR_MAX);
            goto end;
        }
        memcpy(a, p, n);
        a[n] = '\0';
        if (!hub_mail_addr_ok(a)) {
            snprintf(err, errsz, "'%.60s' is not a plain e-mail address (local@domain)", a);
            goto end;
        }
        out->n++;
        p += n;
        while (*p != '\0' && *p != ',')
            p++;
    }
    if (out->n == 0) {
        snprintf(err, errsz, "no address");
        goto end;
    }
    ok = true;
end:
    return ok;
}

/* ---- the message ---- */

/* The subject as one line: control characters → spaces, at most SUBJECT_MAX bytes (never
 * cutting a UTF-8 character); ASCII as it is, anything else as RFC 2047 base64 words of at
 * most 45 bytes each (75 characters a word), folded onto continuation lines. */
static bool put_subject(hub_buf *out, const char *subject)
{
    char line[SUBJECT_MAX + 1];
    unsigned char enc[64];
    size_t n = hub_utf8_cut(subject, strlen(subject), SUBJECT_MAX);
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)subject[i];
        line[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        ascii = ascii && c < 0x80;
    }
    line[n] = '\0';
    if (ascii)
        return hub_buf_printf(out, "Subject: %s\r\n", line);
    bool ok = hub_buf_puts(out, "Subject:");
    for (size_t at = 0; ok && at < n;) {
        size_t k = hub_utf8_cut(line + at, n - at, 45);
        if (k == 0)
            k = n - at > 45 ? 45 : n - at; /* not UTF-8 at all: cut anywhere */
        EVP_EncodeBlock(enc, (const unsigned char *)line + at, (int)k);
        ok = hub_buf_printf(out, "%s=?UTF-8?B?%s?=", at > 0 ? "\r\n " : " ", (const char *)enc);
        at += k;
    }
    return ok && hub_buf_puts(out, "\r\n");
}

bool hub_mail_compose(const char *from, const hub_mail_rcpts *to, const char *subject,
                      const char *body, long long now_s, hub_buf *out)
{
    char date[64], id[HUB_UUID_LEN + 1];
    time_t t = (time_t)now_s;
    struct tm tm;
    bool ok = hub_mail_addr_ok(from) && to->n > 0 && gmtime_r(&t, &tm) != NULL &&
              strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) > 0 &&
              hub_uuid_v4(id);
    ok = ok && hub_buf_printf(out, "From: %s\r\nTo: ", from);
    for (int i = 0; ok && i < to->n; i++)
        ok = hub_mail_addr_ok(to->addr[i]) &&
             hub_buf_printf(out, "%s%s", i > 0 ? ",\r\n " : "", to->addr[i]);
    ok = ok && hub_buf_puts(out, "\r\n") && put_subject(out, subject);
    ok = ok && hub_buf_printf(out,
                              "Date: %s\r\nMessage-ID: <%s@hub.invalid>\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: text/plain; charset=UTF-8\r\n"
                              "Content-Transfer-Encoding: 8bit\r\n"
                              "Auto-Submitted: auto-generated\r\n\r\n",
                              date, id);
    for (const char *p = body; ok && *p != '\0'; p++) {
        if (*p == '\n')
            ok = hub_buf_append(out, "\r\n", 2);
        else if (*p != '\r')
            ok = hub_buf_append(out, p, 1);
    }
    ok = ok && (out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) == 0
                    ? true
                    : hub_buf_append(out, "\r\n", 2));
    return ok;
}

/* ---- sending ---- */

typedef struct {
    const hub_buf *msg;
    size_t at;
} reader;

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    reader *r = ud;
    size_t left = r->msg->len - r->at, room = size * n;
    size_t k = left < room ? left : room;
    memcpy(dst, r->msg->data + r->at, k);
    r->at += k;
    return k;
}

bool hub_mail_send(const hub_mail_relay *relay, const hub_mail_rcpts *to, const char *subject,
                   const char *body, char *err, size_t errsz)
{
    CURL *h = NULL;
    struct curl_slist *rcpt = NULL;
    hub_buf msg;
    char from[HUB_MAIL_ADDR_MAX + 3], path[HUB_MAIL_ADDR_MAX + 3];
    bool ok = false;
    hub_buf_init(&msg, 0);
    if (!hub_mail_compose(relay->from, to, subject, body, (long long)time(NULL), &msg)) {
        snprintf(err, errsz, "cannot compose the message (check smtp_from)");
        goto end;
    }
    h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, errsz, "out of memory");
        goto end;
    }
    snprintf(from, sizeof(from), "<%s>", relay->from);
    for (int i = 0; i < to->n; i++) {
        snprintf(path, sizeof(path), "<%s>", to->addr[i]);
        struct curl_slist *next = curl_slist_append(rcpt, path);
        if (next == NULL) {
            snprintf(err, errsz, "out of memory");
            goto end;
        }
        rcpt = next;
    }
    reader rd = {&msg, 0};
    curl_easy_setopt(h, CURLOPT_URL, relay->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SEND_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &rd);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
    if (relay->user != NULL && relay->user[0] != '\0') {
        curl_easy_setopt(h, CURLOPT_USERNAME, relay->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, relay->password != NULL ? relay->password : "");
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        snprintf(err, errsz, "the SMTP relay refused or failed: %s (reply %ld)",
                 curl_easy_strerror(rc), code);
        goto end;
    }
    ok = true;
end:
    curl_slist_free_all(rcpt);
    if (h != NULL)
        curl_easy_cleanup(h);
    hub_buf_free(&msg);
    return ok;
}
