/*
 * prices.c — the price catalogue half of models.cgi (admin only): the list of prices in
 * USD (per 1M tokens, per image; stored as integer micro-USD, so no float touches money)
 * and the form that sets one.
 *
 *   GET ?view=prices[&provider=P][&page=N][&edit=ID]
 *   POST action=price_set     provider, model, input, output, cached_input, per_image
 *   POST action=price_remove  id
 *
 * A price belongs to one provider (its name) or to a vendor (openai, anthropic, google),
 * which then applies to every provider of that vendor's type without a row of its own.
 */
#include "models.h"

#include "hub_ops.h"
#include "hub_price.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT id, provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source FROM prices "
    "WHERE (? IS NULL OR provider = ?) ORDER BY provider, model LIMIT ? OFFSET ?";
static const char SQL_ONE[] = "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
                              "cached_input_per_1m_micro, per_image_micro FROM prices WHERE id = ?";
static const char SQL_LOCK_ID[] =
    "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source FROM prices "
    "WHERE id = ? FOR UPDATE";
static const char SQL_DELETE[] = "DELETE FROM prices WHERE id = ?";

static const char *const KEYS[] = {"provider",
                                   "model",
                                   "input_per_1m_micro",
                                   "output_per_1m_micro",
                                   "cached_input_per_1m_micro",
                                   "per_image_micro",
                                   "effective_date",
                                   "source"};
static const char *const FIELDS[] = {"input", "output", "cached_input", "per_image"};

static const char *const DONE[] = {
    "price_set",
    "The price was saved (effective today).",
    "price_removed",
    "The price was removed.",
    NULL,
};

/* A micro-USD cell as USD text into out ("" for NULL). */
static const char *usd(const char *micro, char *out, size_t outsz)
{
    long v = 0;
    if (micro == NULL || !hub_parse_long(micro, 0, 9000000000000000000L, &v))
        return NULL;
    hub_fmt_usd(v, 2, out, outsz);
    return out;
}

/* The set-price form, pre-filled from price row e (may be NULL) or a re-shown POST. */
static void price_form(pg *p, const hub_dbres *e)
{
    char v[4][48];
    static const char *const LABELS[] = {"Input, USD per 1M tokens", "Output, USD per 1M tokens",
                                         "Cached input, USD per 1M tokens", "USD per image"};
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Set a price</h2>\n");
    pg_form_open(p, "stack");
    pg_input(p, "Provider or vendor", "text", "provider",
             pg_prefill(p, "provider", e ? hub_dbres_get(e, 0, 0) : NULL),
             "required maxlength=\"64\"",
             "A provider's name, or openai, anthropic, google for every provider of that type.");
    pg_input(p, "Model", "text", "model", pg_prefill(p, "model", e ? hub_dbres_get(e, 0, 1) : NULL),
             "required maxlength=\"191\"", "The provider's own model name.");
    for (int i = 0; i < 4; i++) {
        const char *cur = e ? usd(hub_dbres_get(e, 0, 2 + i), v[i], sizeof(v[i])) : NULL;
        pg_input(p, LABELS[i], "text", FIELDS[i], pg_prefill(p, FIELDS[i], cur),
                 "inputmode=\"decimal\" maxlength=\"24\"",
                 i < 2 ? "e.g. 2.50 (at most 6 decimals); required unless per image is set"
                       : "optional");
    }
    pg_button(p, "price_set", "Save price", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
}

void pr_view(pg *p, int status)
{
    static const char *const HEADS[] = {"Provider",  "Model",     "Input/1M",
                                        "Output/1M", "Cached/1M", "Per image",
                                        "Effective", "Source",    "Actions"};
    hub_dbres r, e = {0};
    const char *prov = pg_arg(p, "provider");
    long page = 1;
    long long edit = 0;
    bool have_e = false;
    char num[4][48];

    if (prov != NULL && prov[0] == '\0')
        prov = NULL;
    hub_dbp q[2] = {DB_STR(prov), DB_STR(prov)};
    if (!pg_list(p, SQL_LIST, q, 2, &page, &r))
        return;
    if (!pg_is_post(p) && pg_arg(p, "edit") != NULL && pg_id(p, "edit", &edit)) {
        hub_dbp eq[1] = {DB_INT(edit)};
        if (!pg_exec(p, SQL_ONE, eq, 1, &e)) {
            hub_dbres_free(&r);
            return;
        }
        have_e = e.nrows > 0;
    }
    pg_begin(p, "Prices");
    hub_html_printf(&p->body,
                    "<h1>Models</h1>\n<p class=\"tabs\"><a href=\"%s\">Routes</a> · "
                    "<strong>Prices</strong></p>\n",
                    p->self);
    pg_notices(p, DONE);
    hub_html_printf(&p->body,
                    "<form method=\"get\" action=\"%s\" class=\"filters\">"
                    "<input type=\"hidden\" name=\"view\" value=\"prices\">",
                    p->self);
    pg_input(p, "Provider or vendor", "text", "provider", prov, "maxlength=\"64\"", NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Filter</button>"
                           "</form>\n");
    pg_table_begin(p, HEADS, 9);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        long long id = hub_dbres_int(&r, i, 0, 0);
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, hub_dbres_get(&r, i, 1));
        pg_td(p, hub_dbres_get(&r, i, 2));
        for (int k = 0; k < 4; k++)
            pg_td(p, usd(hub_dbres_get(&r, i, 3 + k), num[k], sizeof(num[k])));
        pg_td(p, hub_dbres_get(&r, i, 7));
        pg_td(p, hub_dbres_get(&r, i, 8));
        hub_html_printf(&p->body,
                        "<td class=\"actions\"><a href=\"%s?view=prices&amp;edit=%lld"
                        "\">Edit</a>",
                        p->self, id);
        pg_row_action(p, "price_remove", "id", id, "Remove", "btn-danger");
        hub_html_raw(&p->body, "</td></tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 9, "No prices.");
    pg_table_end(p);
    const char *names[1] = {"provider"}, *vals[1] = {prov};
    pg_pager_filters(p, "view=prices", names, vals, 1, page, r.nrows > PG_PAGE_SIZE);
    price_form(p, have_e ? &e : NULL);
    hub_dbres_free(&r);
    hub_dbres_free(&e);
    pg_send(p, status);
}

static void do_set(pg *p)
{
    const char *prov = pg_in(p, "provider");
    const char *model = pg_in(p, "model");
    long long amount[4];
    char msg[200];
    hub_dbres before = {0};

    if (prov == NULL || !hub_name_ok(prov, 64, HUB_CHARS_PROVIDER)) {
        pg_refuse(p, 400, "The provider must be a provider name or openai, anthropic, google.",
                  pr_view);
        return;
    }
    if (model == NULL || !hub_model_name_ok(model)) {
        pg_refuse(p, 400,
                  "The model must be up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                  "without \"..\".",
                  pr_view);
        return;
    }
    for (int i = 0; i < 4; i++) {
        const char *s = pg_in(p, FIELDS[i]);
        amount[i] = -1;
        if (s != NULL && !hub_price_parse_usd(s, &amount[i])) {
            snprintf(msg, sizeof(msg),
                     "The %s amount must be in USD like 2.50 (at most 6 "
                     "decimals).",
                     FIELDS[i]);
            pg_refuse(p, 400, msg, pr_view);
            return;
        }
    }
    if (amount[3] < 0 && (amount[0] < 0 || amount[1] < 0)) {
        pg_refuse(p, 400, "Enter the input and output prices (or a price per image).", pr_view);
        return;
    }
    bool owner_ok = false;
    if (!hub_price_owner_ok(p->db, prov, &owner_ok)) {
        pg_fail_db(p);
        return;
    }
    if (!owner_ok) {
        pg_refuse(p, 400,
                  "No provider has that name, and it is not a vendor (openai, "
                  "anthropic, google).",
                  pr_view);
        return;
    }
    if (!pg_tx_begin(p))
        return;
    if (!hub_price_set(p->db, prov, model, amount, "pages", &before)) {
        hub_dbres_free(&before);
        pg_fail_db(p);
        return;
    }
    char target[300];
    snprintf(target, sizeof(target), "%s/%s", prov, model);
    pg_json b, a;
    pg_json_init(&b);
    pg_json_init(&a);
    pg_json_row(&b, &before, 0, KEYS, 8);
    pg_json_str(&a, "provider", prov);
    pg_json_str(&a, "model", model);
    for (int i = 0; i < 4; i++) {
        if (amount[i] < 0)
            pg_json_str(&a, KEYS[2 + i], NULL);
        else
            pg_json_int(&a, KEYS[2 + i], amount[i]);
    }
    bool ok = pg_audit_commit(p, "price.set", "price", target, before.nrows > 0 ? &b : NULL, &a);
    pg_json_free(&b);
    pg_json_free(&a);
    hub_dbres_free(&before);
    if (ok)
        pg_redirect(p, "models.cgi?view=prices&done=price_set");
}

static void do_remove(pg *p)
{
    long long id = 0;
    hub_dbres r;
    char target[300];
    if (!pg_id(p, "id", &id)) {
        pg_fail(p, 400, "The form did not say which price.");
        return;
    }
    if (!pg_tx_begin(p) || !pg_row(p, SQL_LOCK_ID, id, &r, "There is no such price."))
        return;
    hub_dbp q[1] = {DB_INT(id)};
    snprintf(target, sizeof(target), "%s/%s", hub_dbres_get(&r, 0, 0), hub_dbres_get(&r, 0, 1));
    pg_json b;
    pg_json_init(&b);
    pg_json_row(&b, &r, 0, KEYS, 8);
    bool ok = pg_exec(p, SQL_DELETE, q, 1, NULL) &&
              pg_audit_commit(p, "price.remove", "price", target, &b, NULL);
    pg_json_free(&b);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect(p, "models.cgi?view=prices&done=price_removed");
}

void pr_post(pg *p, const char *action)
{
    if (strcmp(action, "price_set") == 0)
        do_set(p);
    else if (strcmp(action, "price_remove") == 0)
        do_remove(p);
    else
        pg_fail(p, 400, "Unknown action.");
}
