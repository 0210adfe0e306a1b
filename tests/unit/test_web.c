/*
 * test_web.c — unit tests of the database-free parts of the admin pages' library:
 * hub_cgi (urlencoded forms, cookies, the request from the environment, the response head),
 * hub_html (escaping, the restricted printf, the layout), hub_password (hash, verify,
 * malformed stored values, the weak-password rules), the session cookie header, CSRF
 * comparison, role ordering and the role_map. The database-backed parts (sessions,
 * throttling, audit chain, webauth) are in test_web2.c.
 *
 * Usage: test_web (no arguments). Temporary files go under $TMPDIR (default /tmp).
 * Output is TAP-style, one line per check (see tap.h).
 */
#include "hub_buf.h"
#include "hub_cgi.h"
#include "hub_config.h"
#include "hub_html.h"
#include "hub_password.h"
#include "hub_session.h"
#include "hub_webauth.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------ */

/* Parses s; returns the pair count, or -1 when refused. Frees what it parsed. */
static int ue_count(const char *s, size_t len)
{
    hub_kv *kv = NULL;
    int n = 0;
    if (!hub_cgi_parse_urlencoded(s, len, &kv, &n))
        return -1;
    hub_kv_free(kv, n);
    return n;
}

static bool ue_refused(const char *s)
{
    return ue_count(s, strlen(s)) == -1;
}

static char *repeat(const char *unit, int times, const char *sep)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    for (int i = 0; i < times; i++) {
        if (i > 0)
            hub_buf_puts(&b, sep);
        hub_buf_puts(&b, unit);
    }
    return b.data; /* caller frees */
}

static bool contains(const hub_buf *b, const char *needle)
{
    return b->data != NULL && strstr(b->data, needle) != NULL;
}

/* ---- hub_cgi ------------------------------------------------------------------------ */

static void test_urlencoded(void)
{
    hub_kv *kv = NULL;
    int n = 0;
    const char *s = "a=1&b=hello+world&c=%41%62%c3%a9&d=&e&&f=x%0D%0Ay&";
    bool ok = hub_cgi_parse_urlencoded(s, strlen(s), &kv, &n);
    TAP_CHECK(ok && n == 6, "urlencoded: six pairs, empty segments skipped");
    TAP_CHECK(ok && strcmp(kv[1].value, "hello world") == 0, "urlencoded: '+' is a space");
    TAP_CHECK(ok && strcmp(kv[2].value, "Ab\xc3\xa9") == 0, "urlencoded: %XX either case, UTF-8");
    TAP_CHECK(ok && strcmp(kv[3].value, "") == 0 && strcmp(kv[4].name, "e") == 0 &&
                  strcmp(kv[4].value, "") == 0,
              "urlencoded: empty value and name without '='");
    TAP_CHECK(ok && strcmp(kv[5].value, "x\r\ny") == 0, "urlencoded: CR LF allowed in a value");
    hub_kv_free(kv, n);
    TAP_CHECK(ue_count(NULL, 0) == 0 && ue_count("", 0) == 0, "urlencoded: empty input");
    TAP_CHECK(ue_count("a=1&b=2", 3) == 1, "urlencoded: only len bytes are read");

    TAP_CHECK(ue_refused("a=%4"), "urlencoded: truncated escape refused");
    TAP_CHECK(ue_refused("a=%zz") && ue_refused("a=%4g") && ue_refused("%=1"),
              "urlencoded: invalid hex refused");
    TAP_CHECK(ue_refused("a=%00") && ue_refused("%00=a"), "urlencoded: %00 refused");
    TAP_CHECK(ue_refused("a=x\x01y") && ue_refused("a=x\ty") && ue_refused("a=x\x7f"),
              "urlencoded: raw control characters refused");
    TAP_CHECK(ue_count("a=1\0b=2", 7) == -1, "urlencoded: raw NUL refused");
    TAP_CHECK(ue_refused("a=%01") && ue_refused("a=%7F") && ue_refused("a%0A=1"),
              "urlencoded: escaped control characters refused (name: even LF)");
    TAP_CHECK(ue_refused("=x"), "urlencoded: empty name refused");
    TAP_CHECK(ue_refused("a=%C3%28") && ue_refused("a=%C0%AF") && ue_refused("a=%ED%A0%80") &&
                  ue_refused("a=%F4%90%80%80") && ue_refused("a=\xff") && ue_refused("a=%E2%82"),
              "urlencoded: invalid UTF-8 (bad continuation, overlong, surrogate, > U+10FFFF, "
              "truncated) refused");

    char name[80];
    memset(name, 'n', 64);
    memcpy(name + 64, "=1", 3);
    TAP_CHECK(ue_count(name, strlen(name)) == 1, "urlencoded: 64-byte name accepted");
    memset(name, 'n', 65);
    memcpy(name + 65, "=1", 3);
    TAP_CHECK(ue_refused(name), "urlencoded: 65-byte name refused");

    size_t vmax = 64 * 1024;
    char *big = malloc(vmax + 8);
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', vmax);
    big[vmax + 2] = '\0';
    TAP_CHECK(ue_count(big, vmax + 2) == 1, "urlencoded: 64 KiB value accepted");
    big[vmax + 2] = 'x';
    big[vmax + 3] = '\0';
    TAP_CHECK(ue_count(big, vmax + 3) == -1, "urlencoded: 64 KiB + 1 value refused");
    free(big);

    char *pairs = repeat("k=v", 256, "&");
    TAP_CHECK(ue_count(pairs, strlen(pairs)) == 256, "urlencoded: 256 pairs accepted");
    free(pairs);
    pairs = repeat("k=v", 257, "&");
    TAP_CHECK(ue_count(pairs, strlen(pairs)) == -1, "urlencoded: 257 pairs refused");
    free(pairs);
}

static void test_cookies(void)
{
    hub_kv *kv = NULL;
    int n = 0;
    bool ok = hub_cgi_parse_cookies("a=b; hub_session=abc123;c=\"q\"", &kv, &n);
    TAP_CHECK(ok && n == 3 && strcmp(kv[1].name, "hub_session") == 0 &&
                  strcmp(kv[1].value, "abc123") == 0 && strcmp(kv[2].value, "q") == 0,
              "cookies: pairs split, quotes stripped");
    hub_kv_free(kv, n);
    ok = hub_cgi_parse_cookies("junk; =v; x=1; s p=2; y=a b; z=\x01; w=ok;;", &kv, &n);
    TAP_CHECK(ok && n == 2 && strcmp(kv[0].name, "x") == 0 && strcmp(kv[1].name, "w") == 0,
              "cookies: malformed pairs skipped");
    hub_kv_free(kv, n);
    ok = hub_cgi_parse_cookies(NULL, &kv, &n);
    TAP_CHECK(ok && n == 0 && kv == NULL, "cookies: none");
    char *many = repeat("c=1", 50, "; ");
    ok = hub_cgi_parse_cookies(many, &kv, &n);
    TAP_CHECK(ok && n == 50, "cookies: 50 accepted");
    hub_kv_free(kv, n);
    free(many);
    many = repeat("c=1", 51, "; ");
    TAP_CHECK(!hub_cgi_parse_cookies(many, &kv, &n) && kv == NULL && n == 0, "cookies: 51 refused");
    free(many);
}

static void clear_cgi_env(void)
{
    const char *vars[] = {"REQUEST_METHOD", "SCRIPT_NAME",   "PATH_INFO",   "QUERY_STRING",
                          "CONTENT_LENGTH", "CONTENT_TYPE",  "HTTP_COOKIE", "REMOTE_ADDR",
                          "HTTPS",          "REQUEST_SCHEME"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

/* Points stdin at a file holding body. */
static void stdin_from(const char *body)
{
    char path[256];
    const char *t = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/test_web_body.%ld", (t && *t) ? t : "/tmp", (long)getpid());
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(body, f);
        fclose(f);
    }
    if (freopen(path, "r", stdin) == NULL)
        perror("freopen");
    unlink(path);
}

static void test_cgi_read(void)
{
    hub_cgi c;
    char err[128];
    clear_cgi_env();
    setenv("REQUEST_METHOD", "GET", 1);
    setenv("SCRIPT_NAME", "/admin/keys.cgi", 1);
    setenv("QUERY_STRING", "page=2&q=a%20b", 1);
    setenv("HTTP_COOKIE", "hub_session=abc; theme=dark", 1);
    setenv("REMOTE_ADDR", "192.0.2.7", 1);
    setenv("HTTPS", "on", 1);
    bool ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(ok && strcmp(c.method, "GET") == 0 && strcmp(c.script, "/admin/keys.cgi") == 0 &&
                  strcmp(c.path_info, "") == 0 && c.https &&
                  strcmp(c.remote_addr, "192.0.2.7") == 0,
              "cgi read: environment");
    TAP_CHECK(ok && hub_cgi_query(&c, "q") != NULL && strcmp(hub_cgi_query(&c, "q"), "a b") == 0 &&
                  hub_cgi_query(&c, "nope") == NULL,
              "cgi read: query");
    TAP_CHECK(ok && strcmp(hub_cgi_cookie(&c, "hub_session"), "abc") == 0, "cgi read: cookies");
    hub_cgi_free(&c);

    setenv("QUERY_STRING", "a=%zz", 1);
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strstr(err, "escape") != NULL, "cgi read: bad query refused with a reason");
    unsetenv("QUERY_STRING");

    setenv("REQUEST_METHOD", "POST", 1);
    setenv("CONTENT_TYPE", "application/x-www-form-urlencoded; charset=UTF-8", 1);
    setenv("CONTENT_LENGTH", "19", 1);
    stdin_from("csrf=t&name=a+b&x=1TRAILING");
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(ok && c.nform == 3 && strcmp(hub_cgi_form(&c, "name"), "a b") == 0 &&
                  strcmp(hub_cgi_form(&c, "x"), "1") == 0,
              "cgi read: POST form, exactly CONTENT_LENGTH bytes");
    hub_cgi_free(&c);

    setenv("CONTENT_LENGTH", "100", 1);
    stdin_from("a=1");
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strcmp(err, "truncated request body") == 0, "cgi read: truncated body");

    setenv("CONTENT_TYPE", "multipart/form-data; boundary=x", 1);
    setenv("CONTENT_LENGTH", "3", 1);
    stdin_from("a=1");
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strcmp(err, "unsupported form encoding") == 0, "cgi read: multipart refused");
    setenv("CONTENT_TYPE", "application/x-www-form-urlencodedX", 1);
    stdin_from("a=1");
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strcmp(err, "unsupported form encoding") == 0,
              "cgi read: look-alike type refused");

    setenv("CONTENT_TYPE", "application/x-www-form-urlencoded", 1);
    setenv("CONTENT_LENGTH", "1048577", 1);
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strcmp(err, "request body too large") == 0, "cgi read: body over the limit");
    setenv("CONTENT_LENGTH", "-1", 1);
    TAP_CHECK(!hub_cgi_read(&c, err, sizeof(err)), "cgi read: negative length refused");
    setenv("CONTENT_LENGTH", " 3", 1);
    TAP_CHECK(!hub_cgi_read(&c, err, sizeof(err)), "cgi read: blank in length refused");

    setenv("CONTENT_LENGTH", "5", 1);
    stdin_from("a=%00");
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(!ok && strstr(err, "NUL") != NULL, "cgi read: %00 in body refused");

    setenv("REQUEST_METHOD", "PUT", 1);
    setenv("CONTENT_LENGTH", "3", 1);
    stdin_from("a=1");
    TAP_CHECK(!hub_cgi_read(&c, err, sizeof(err)), "cgi read: body on a non-POST refused");
    clear_cgi_env();
    setenv("REQUEST_SCHEME", "https", 1);
    ok = hub_cgi_read(&c, err, sizeof(err));
    TAP_CHECK(ok && c.https && strcmp(c.method, "GET") == 0 && c.nform == 0,
              "cgi read: REQUEST_SCHEME=https, defaults");
    hub_cgi_free(&c);
    clear_cgi_env();
}

static void test_head_and_urlencode(void)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    hub_cgi_head(f, 303, NULL, "Location: /admin/\r\nSet-Cookie: a=b\r\n");
    fclose(f);
    TAP_CHECK(mem != NULL && strncmp(mem, "Status: 303 See Other\r\n", 23) == 0,
              "head: status line first");
    TAP_CHECK(mem != NULL && strstr(mem, "\r\nContent-Type: text/html; charset=utf-8\r\n") &&
                  strstr(mem, "\r\nCache-Control: no-store\r\n") &&
                  strstr(mem, "\r\nContent-Security-Policy: default-src 'self'\r\n") &&
                  strstr(mem, "\r\nX-Frame-Options: DENY\r\n") &&
                  strstr(mem, "\r\nX-Content-Type-Options: nosniff\r\n") &&
                  strstr(mem, "\r\nReferrer-Policy: no-referrer\r\n"),
              "head: security headers");
    TAP_CHECK(mem != NULL && len > 4 && strstr(mem, "Set-Cookie: a=b\r\n\r\n") != NULL &&
                  strcmp(mem + len - 4, "\r\n\r\n") == 0,
              "head: extra lines, then the blank line");
    free(mem);

    hub_buf b;
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_cgi_urlencode(&b, "a b&c/\xc3\xa9~-._Z9") &&
                  strcmp(b.data, "a%20b%26c%2F%C3%A9~-._Z9") == 0,
              "urlencode: reserved and non-ASCII bytes escaped");
    hub_buf_free(&b);
}

/* ---- hub_html ---------------------------------------------------------------------- */

static void test_html(void)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_html_esc(&b, "<a href=\"x\">'&'</a>") &&
                  strcmp(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;") == 0,
              "html: & < > \" ' escaped");
    hub_buf_reset(&b);
    TAP_CHECK(hub_html_esc(&b, NULL) && b.len == 0, "html: NULL appends nothing");
    TAP_CHECK(hub_html_printf(&b, "<p>%s|%d|%ld|%lld|%u|%lu|%zu|100%%|%s</p>", "<b>&", -3, 40L,
                              -5000000000LL, 7u, 8UL, (size_t)9, (const char *)NULL) &&
                  strcmp(b.data, "<p>&lt;b&gt;&amp;|-3|40|-5000000000|7|8|9|100%|</p>") == 0,
              "html printf: %s escaped, numbers as printf");
    size_t before = b.len;
    const char *bad[] = {"x%x", "x%5d", "%n", "tail %", "%p", "%ls", "%c", "%.3s", "%lx"};
    bool all = true;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        all = all && !hub_html_printf(&b, bad[i], 1, 2);
    TAP_CHECK(all && b.len == before, "html printf: other conversions write nothing, fail");
    hub_buf_reset(&b);
    TAP_CHECK(hub_html_notice(&b, "error", "<bad>") && strstr(b.data, "notice-error") != NULL &&
                  strstr(b.data, "&lt;bad&gt;") != NULL,
              "html notice: escaped, kind class");
    hub_buf_reset(&b);
    TAP_CHECK(hub_html_notice(&b, "\"><script>", "x") && strstr(b.data, "notice-info") != NULL &&
                  strstr(b.data, "script") == NULL,
              "html notice: unknown kind is info");
    hub_buf_reset(&b);
    TAP_CHECK(hub_html_form_open(&b, "/admin/keys.cgi?x=\"", "tok\"en") &&
                  strstr(b.data, "<form method=\"post\" action=\"/admin/keys.cgi?x=&quot;\">") &&
                  strstr(b.data, "<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en\">"),
              "html form: post, escaped action, csrf field");
    hub_buf_free(&b);
}

static bool nav_has(const hub_buf *b, const char *file)
{
    char href[64];
    snprintf(href, sizeof(href), "href=\"/admin/%s\"", file);
    return contains(b, href);
}

static void test_layout(void)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    hub_page p = {.title = "Keys <&>",
                  .user = "al\"ice",
                  .role = "admin",
                  .active = "keys",
                  .csrf = "c0ffee",
                  .base = "/admin"};
    bool ok = hub_html_begin(&b, &p) && hub_html_raw(&b, "<p>body</p>") && hub_html_end(&b);
    TAP_CHECK(ok && strncmp(b.data, "<!doctype html>", 15) == 0 &&
                  contains(&b, "<title>Keys &lt;&amp;&gt; · hub</title>") &&
                  contains(&b, "<link rel=\"stylesheet\" href=\"/admin/static/hub.css\">") &&
                  contains(&b, "<main") && contains(&b, "</main>") && contains(&b, "</html>"),
              "layout: document, escaped title, stylesheet, main");
    TAP_CHECK(!contains(&b, "<script") && !contains(&b, "style=") && !contains(&b, "<style") &&
                  !contains(&b, " onclick") && !contains(&b, "javascript:") &&
                  !contains(&b, "http://") && !contains(&b, "https://"),
              "layout: CSP-safe (no script, no inline style, no external resource)");
    TAP_CHECK(nav_has(&b, "providers.cgi") && nav_has(&b, "models.cgi") &&
                  nav_has(&b, "keys.cgi") && nav_has(&b, "users.cgi") &&
                  nav_has(&b, "tokens.cgi") && nav_has(&b, "audit.cgi") &&
                  nav_has(&b, "settings.cgi") && contains(&b, "Models &amp; prices") &&
                  contains(&b, "Security settings"),
              "layout: admin sees all seven entries");
    TAP_CHECK(contains(&b, "href=\"/admin/keys.cgi\" class=\"active\" aria-current=\"page\""),
              "layout: active entry marked");
    TAP_CHECK(contains(&b, "action=\"/admin/login.cgi\"") &&
                  contains(&b, "name=\"csrf\" value=\"c0ffee\"") &&
                  contains(&b, "name=\"action\" value=\"logout\"") && contains(&b, "al&quot;ice"),
              "layout: logout form with csrf, escaped user");
    hub_buf_reset(&b);
    p.role = "viewer";
    ok = hub_html_begin(&b, &p);
    TAP_CHECK(ok && nav_has(&b, "providers.cgi") && nav_has(&b, "keys.cgi") &&
                  nav_has(&b, "audit.cgi") && nav_has(&b, "tokens.cgi") &&
                  !nav_has(&b, "models.cgi") && !nav_has(&b, "users.cgi") &&
                  !nav_has(&b, "settings.cgi"),
              "layout: viewer navigation");
    hub_buf_reset(&b);
    p.role = "member";
    ok = hub_html_begin(&b, &p);
    TAP_CHECK(ok && nav_has(&b, "tokens.cgi") && !nav_has(&b, "providers.cgi") &&
                  !nav_has(&b, "keys.cgi") && !nav_has(&b, "audit.cgi"),
              "layout: member sees My tokens only");
    hub_buf_reset(&b);
    hub_page anon = {.title = "Sign in", .base = "/admin"};
    ok = hub_html_begin(&b, &anon);
    TAP_CHECK(ok && !contains(&b, "<nav") && !contains(&b, "logout") && contains(&b, ">hub<"),
              "layout: signed out: brand, no navigation, no logout");
    hub_buf_free(&b);
}

/* ---- hub_password ---------------------------------------------------------------------- */

/* stored with part k (1 = iter, 2 = salt, 3 = hash) replaced by repl. */
static void replace_part(const char *stored, int k, const char *repl, char *out, size_t outsz)
{
    const char *d[4];
    d[0] = strchr(stored, '$');
    for (int i = 1; i < 4; i++)
        d[i] = d[i - 1] != NULL ? strchr(d[i - 1] + 1, '$') : NULL;
    const char *start = d[k - 1] + 1;
    const char *end = d[k] != NULL ? d[k] : stored + strlen(stored);
    snprintf(out, outsz, "%.*s%s%s", (int)(start - stored), stored, repl, end);
}

static void test_password(void)
{
    char h1[128], h2[128], bad[256];
    bool ok = hub_password_hash("correct horse battery", h1, sizeof(h1)) &&
              hub_password_hash("correct horse battery", h2, sizeof(h2));
    TAP_CHECK(ok && strncmp(h1, "pbkdf2-sha256$210000$", 21) == 0 && strlen(h1) == 90,
              "password: stored format");
    TAP_CHECK(ok && strcmp(h1, h2) != 0, "password: random salt");
    TAP_CHECK(hub_password_verify("correct horse battery", h1), "password: verify");
    TAP_CHECK(!hub_password_verify("correct horse batterY", h1) && !hub_password_verify("", h1),
              "password: wrong password refused");
    TAP_CHECK(!hub_password_hash("x", h2, 40), "password: small output buffer refused");
    TAP_CHECK(!hub_password_verify("x", NULL) && !hub_password_verify(NULL, h1) &&
                  !hub_password_verify("x", "") && !hub_password_verify("x", "pbkdf2-sha256$"),
              "password: empty / NULL stored refused");
    replace_part(h1, 1, "999", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: iter < 1000");
    replace_part(h1, 1, "10000001", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: iter > 10^7");
    replace_part(h1, 1, "0210000", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: leading zero");
    replace_part(h1, 1, "+210000", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: signed iter");
    replace_part(h1, 2, "AAAA", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: short salt");
    replace_part(h1, 2, "!!!!!!!!!!!!!!!!!!!!!!==", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: bad base64 salt");
    replace_part(h1, 3, "AAAA", bad, sizeof(bad));
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: short hash");
    snprintf(bad, sizeof(bad), "%s$", h1);
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: extra field");
    snprintf(bad, sizeof(bad), "%s", h1);
    bad[strlen(bad) - 10] = bad[strlen(bad) - 10] == 'A' ? 'B' : 'A';
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: altered hash refused");
    snprintf(bad, sizeof(bad), "%s", h1);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'B' ? 'C' : 'B'; /* unused bits set */
    TAP_CHECK(!hub_password_verify("correct horse battery", bad),
              "password: non-canonical base64 refused");
    snprintf(bad, sizeof(bad), "pbkdf2-sha1%s", h1 + 13);
    TAP_CHECK(!hub_password_verify("correct horse battery", bad), "password: other scheme");

    const char *w = hub_password_weak("short");
    TAP_CHECK(w != NULL && strcmp(w, "at least 12 characters") == 0, "weak: < 12 characters");
    TAP_CHECK(hub_password_weak(NULL) != NULL, "weak: NULL");
    TAP_CHECK(hub_password_weak("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") != NULL,
              "weak: characters, not bytes, are counted");
    TAP_CHECK(hub_password_weak("aaaaaaaaaaaaaaaa") != NULL, "weak: one repeated character");
    TAP_CHECK(hub_password_weak("abababababab") != NULL, "weak: too few different characters");
    TAP_CHECK(hub_password_weak("abcdefghijklm") != NULL &&
                  hub_password_weak("zyxwvutsrqpo") != NULL,
              "weak: simple sequences");
    TAP_CHECK(hub_password_weak("Password2024!") != NULL &&
                  hub_password_weak("qwertyuiop123") != NULL &&
                  hub_password_weak("839201746583") != NULL,
              "weak: common stems and digits only");
    TAP_CHECK(hub_password_weak("tab\there-is-bad") != NULL, "weak: control characters");
    TAP_CHECK(hub_password_weak("correct horse battery") == NULL &&
                  hub_password_weak("gr\xc3\xbcn-Ente-42-sp\xc3\xa4t") == NULL,
              "weak: good passphrases accepted");
}

/* ---- sessions (no database), roles --------------------------------------------------- */

static void test_cookie_header_csrf(void)
{
    char v[65], out[256];
    memset(v, 'a', 64);
    v[64] = '\0';
    hub_session_cookie_header(out, sizeof(out), v, true, 480);
    char want[256];
    snprintf(want, sizeof(want),
             "Set-Cookie: hub_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800; "
             "Secure\r\n",
             v);
    TAP_CHECK(strcmp(out, want) == 0, "cookie header: all attributes with Secure");
    hub_session_cookie_header(out, sizeof(out), v, false, 5);
    TAP_CHECK(strstr(out, "Max-Age=300\r\n") != NULL && strstr(out, "Secure") == NULL &&
                  strstr(out, "HttpOnly; SameSite=Strict") != NULL,
              "cookie header: without Secure");
    hub_session_cookie_header(out, sizeof(out), NULL, true, 480);
    TAP_CHECK(strcmp(out, "Set-Cookie: hub_session=; Path=/; HttpOnly; SameSite=Strict; "
                          "Max-Age=0; Secure\r\n") == 0,
              "cookie header: clearing");
    hub_session_cookie_header(out, sizeof(out), "abc\r\nX-Evil: 1", true, 480);
    TAP_CHECK(out[0] == '\0', "cookie header: a value that is not ours is never written");
    hub_session_cookie_header(out, 40, v, true, 480);
    TAP_CHECK(out[0] == '\0', "cookie header: never a cut line");

    hub_session s;
    memset(&s, 0, sizeof(s));
    memset(s.csrf, 'f', 64);
    char tok[65];
    memcpy(tok, s.csrf, 65);
    TAP_CHECK(hub_session_csrf_ok(&s, tok), "csrf: equal token");
    tok[63] = 'e';
    TAP_CHECK(!hub_session_csrf_ok(&s, tok) && !hub_session_csrf_ok(&s, "ffff") &&
                  !hub_session_csrf_ok(&s, NULL) && !hub_session_csrf_ok(&s, ""),
              "csrf: different, short, NULL, empty refused");
    memset(&s, 0, sizeof(s));
    TAP_CHECK(!hub_session_csrf_ok(&s, ""), "csrf: a session without token accepts nothing");
}

static void test_roles(void)
{
    TAP_CHECK(hub_role_at_least("admin", "viewer") && hub_role_at_least("admin", "member") &&
                  hub_role_at_least("viewer", "member") && hub_role_at_least("member", "member"),
              "roles: admin > viewer > member");
    TAP_CHECK(!hub_role_at_least("viewer", "admin") && !hub_role_at_least("member", "viewer"),
              "roles: lower roles refused");
    TAP_CHECK(!hub_role_at_least(NULL, "member") && !hub_role_at_least("root", "member") &&
                  !hub_role_at_least("admin", "superuser") && !hub_role_at_least("Admin", "member"),
              "roles: unknown roles never pass");

    hub_config cfg;
    hub_config_defaults(&cfg);
    snprintf(cfg.role_map, sizeof(cfg.role_map), "%s",
             " hub-admins = admin, hub-viewers=viewer ,staff=member,x=bogus");
    TAP_CHECK(strcmp(hub_webauth_role_for_groups(&cfg, "staff;hub-viewers"), "viewer") == 0,
              "role_map: mapped group");
    TAP_CHECK(strcmp(hub_webauth_role_for_groups(&cfg, "hub-viewers hub-admins,staff"), "admin") ==
                  0,
              "role_map: the highest role wins");
    TAP_CHECK(strcmp(hub_webauth_role_for_groups(&cfg, "hub-admin other x"), "member") == 0 &&
                  strcmp(hub_webauth_role_for_groups(&cfg, NULL), "member") == 0,
              "role_map: no match (prefixes do not count) gives default_role");
    snprintf(cfg.default_role, sizeof(cfg.default_role), "viewer");
    TAP_CHECK(strcmp(hub_webauth_role_for_groups(&cfg, "other"), "viewer") == 0,
              "role_map: configured default_role");
    snprintf(cfg.default_role, sizeof(cfg.default_role), "root");
    TAP_CHECK(strcmp(hub_webauth_role_for_groups(&cfg, ""), "member") == 0,
              "role_map: an unknown default_role is member");

    snprintf(cfg.admin_auth, sizeof(cfg.admin_auth), "%s", "local, webserver");
    TAP_CHECK(hub_webauth_mode(&cfg, "local") && hub_webauth_mode(&cfg, "webserver") &&
                  !hub_webauth_mode(&cfg, "oidc") && !hub_webauth_mode(&cfg, "web") &&
                  !hub_webauth_mode(&cfg, ""),
              "admin_auth: modes listed");
}

int main(void)
{
    test_urlencoded();
    test_cookies();
    test_cgi_read();
    test_head_and_urlencode();
    test_html();
    test_layout();
    test_password();
    test_cookie_header_csrf();
    test_roles();
    return tap_done();
}
