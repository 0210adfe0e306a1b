/*
 * analytics.h — analytics.cgi, the usage analytics pages (read-only, GET only):
 *
 *   view=overview    (default) totals of the period against the previous one, cost and tokens
 *                    over time stacked by team or model, top spenders
 *   view=breakdown   by=user|team|app|key|model|provider|day with totals, sortable, paged,
 *                    drill-down links, CSV/JSON export (format=csv|json)
 *   view=calls       the call log: one line per attempt, filtered, newest first, keyset paged
 *   view=chargeback  month=YYYY-MM per team (detail=1: per team and model), CSV/JSON export
 *   view=prompt      request=ID: a stored prompt (prompt logging; analytics_prompt.c)
 *
 * Shared parameters: period=today|7d|30d|month|custom (from, to: local dates), tz (see
 * hub_report.h), stack=team|model, filters user, team, key (ids; 0 = none), app (AN_NONE =
 * calls without an app; empty = no filter, as a form's blank field sends it), provider,
 * model. Members see only their own usage: every query carries their user id, whatever the
 * parameters say, and asking for another user's usage answers 403. Admins and viewers see
 * everything. Every number comes from the rollups (lib/hub_report.h) except the call log,
 * which reads usage_log through an index, a bounded page at a time.
 */
#ifndef ANALYTICS_H
#define ANALYTICS_H

#include "page.h"

#include "hub_report.h"
#include "hub_svg.h"

#include <stdbool.h>

/* app=AN_NONE: calls made without an app label */
#define AN_NONE "(none)"

/* The query parameters a link carries, by index. */
enum {
    AQ_VIEW,
    AQ_PERIOD,
    AQ_FROM,
    AQ_TO,
    AQ_TZ,
    AQ_STACK,
    AQ_BY,
    AQ_USER,
    AQ_TEAM,
    AQ_KEY,
    AQ_APP,
    AQ_PROVIDER,
    AQ_MODEL,
    AQ_OUTCOME,
    AQ_SORT,
    AQ_DIR,
    AQ_MONTH,
    AQ_DETAIL,
    AQ_N
};

typedef struct {
    pg *p;
    bool member; /* only the signed-in user's own usage */
    hub_tz tz;
    hub_period per;      /* the chosen period (chargeback: the month) */
    hub_rfilter f;       /* period data range + filters (member: own user id) */
    const char *q[AQ_N]; /* validated parameter values (NULL: absent) */
    char idbuf[3][24];   /* normalised ids for links */
    char monthbuf[8];
    hub_dim by;    /* breakdown dimension */
    bool by_time;  /* by=day (or hour for a one-day period) */
    hub_dim stack; /* HUB_DIM_TEAM or HUB_DIM_MODEL */
    const char *sort;
    bool desc;
    const char *format; /* NULL: HTML, "csv", "json" */
} an_ctx;

/* analytics.c */
/* Appends a link "self?…" with the current parameters, changed by the pairs of set (name
 * index, value; value NULL removes it), n pairs. The text is escaped when written. */
void an_link(an_ctx *a, hub_buf *out, const int *idx, const char *const *val, int n);
/* Writes <a href="LINK">text</a> (text escaped). */
void an_a(an_ctx *a, const int *idx, const char *const *val, int n, const char *text);
/* The page head: title, tabs, the period form, the filter line. */
void an_head(an_ctx *a, const char *title, const char *active);
/* Sends a CSV / JSON body as a download named hub-NAME.EXT. */
void an_send_file(an_ctx *a, const char *name, const hub_buf *body);
/* Formats micro-USD for a page ("$12.34"; small amounts keep more decimals). */
void an_usd(long long micro, char *out, size_t outsz);
/* A count with thousands separators. */
void an_count(long long v, char *out, size_t outsz);

/* analytics_overview.c */
void an_overview(an_ctx *a);
/* analytics_breakdown.c */
void an_breakdown(an_ctx *a);
void an_chargeback(an_ctx *a);
/* analytics_calls.c */
void an_calls(an_ctx *a);
/* analytics_prompt.c: stored prompts (prompt logging, lib/hub_prompt.h) */
/* view=prompt&request=ID (admins; members: their own calls; viewers: 403). */
void an_prompt(an_ctx *a);
/* The call log's notice: whether prompts are stored, and who may open them. */
void an_prompt_notice(an_ctx *a);
/* has[i] = a prompt is stored for the request id in column rid_col of row i of r (i < n ≤ 64),
 * and this user may open it. false on a database error (has[] stays false). */
bool an_prompt_marks(an_ctx *a, const hub_dbres *r, int n, int rid_col, bool *has);
/* A " prompt" link to view=prompt for rid when has. */
void an_prompt_link(an_ctx *a, const char *rid, bool has);

#endif
