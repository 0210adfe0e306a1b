/*
 * index.c — index.cgi: the start page after sign-in. Admins and viewers see a short
 * overview (providers, model routes, live API keys, users, requests in the last 24 hours)
 * with links to the pages of their role; members see their own tokens and usage link.
 * Read-only: GET only.
 */
#include "page.h"

#include <stdio.h>

static const char SQL_COUNTS[] =
    "SELECT (SELECT COUNT(*) FROM providers), (SELECT COUNT(*) FROM providers WHERE enabled = 1), "
    "(SELECT COUNT(*) FROM models), "
    "(SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL "
    " AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(3))), "
    "(SELECT COUNT(*) FROM users WHERE disabled = 0), "
    "(SELECT COUNT(DISTINCT request_id) FROM usage_log "
    " WHERE ts >= UTC_TIMESTAMP(3) - INTERVAL 1 DAY)";

/* One overview card: a number, what it counts, and a link (href NULL: none). */
static void card(pg *p, long long n, const char *what, const char *href, const char *link)
{
    hub_html_printf(&p->body,
                    "<div class=\"card\"><span class=\"card-num\">%lld</span> "
                    "<span class=\"card-label\">%s</span>",
                    n, what);
    if (href != NULL)
        hub_html_printf(&p->body, " <a href=\"%s/%s\">%s</a>", p->cfg.admin_base, href, link);
    hub_html_raw(&p->body, "</div>\n");
}

static void overview(pg *p)
{
    hub_dbres r;
    bool admin = pg_role(p, "admin");
    if (!hub_db_exec(p->db, SQL_COUNTS, NULL, 0, &r, NULL, NULL)) {
        pg_fail_db(p);
        return;
    }
    hub_html_raw(&p->body, "<section class=\"cards\">\n");
    card(p, hub_dbres_int(&r, 0, 1, 0), "providers enabled", "providers.cgi", "Providers");
    card(p, hub_dbres_int(&r, 0, 2, 0), "model routes", admin ? "models.cgi" : NULL,
         "Models & prices");
    card(p, hub_dbres_int(&r, 0, 3, 0), "live API keys", "keys.cgi", "API keys");
    card(p, hub_dbres_int(&r, 0, 4, 0), "active users", admin ? "users.cgi" : NULL,
         "Users & teams");
    card(p, hub_dbres_int(&r, 0, 5, 0), "requests in the last 24 hours", NULL, NULL);
    hub_html_raw(&p->body, "</section>\n");
    hub_dbres_free(&r);
}

int main(void)
{
    pg p;
    if (pg_start(&p, "index.cgi", NULL, false) && pg_auth(&p, "member", NULL)) {
        pg_begin(&p, "Start");
        hub_html_printf(&p.body,
                        "<h1>Welcome, %s</h1>\n<p>You are signed in as <strong>%s"
                        "</strong>.</p>\n",
                        p.s.user, p.s.role);
        if (pg_role(&p, "viewer"))
            overview(&p);
        hub_html_printf(&p.body,
                        "<p><a class=\"btn\" href=\"%s/tokens.cgi\">My tokens and usage</a></p>\n",
                        p.cfg.admin_base);
        pg_send(&p, 200);
    }
    return pg_finish(&p);
}
