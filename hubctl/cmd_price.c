/*
 * cmd_price.c — "hubctl price set|list": the price catalogue the gateway costs calls with.
 *
 * Prices are entered in USD (per 1M tokens, or per image) and stored as integer
 * micro-USD, so no float ever touches money. A price row belongs either to one provider
 * (its name) or to a vendor (openai, anthropic, google), in which case it applies to
 * every provider of that vendor's type that has no row of its own.
 */
#include "hubctl.h"

#include "hub_price.h"

#include <string.h>

static const char SET_HELP[] =
    "usage: hubctl price set PROVIDER/MODEL --input USD --output USD\n"
    "                        [--cached-input USD] [--per-image USD]\n\n"
    "Sets (inserts or replaces) the price of MODEL, effective today (UTC).\n"
    "PROVIDER is a provider name or a vendor name (openai, anthropic, google) that\n"
    "applies to every provider of that vendor's type.\n\n"
    "  --input USD          USD per 1M input (prompt) tokens, e.g. 2.50\n"
    "  --output USD         USD per 1M output (completion) tokens\n"
    "  --cached-input USD   USD per 1M cached input tokens (optional)\n"
    "  --per-image USD      USD per generated image; with it --input and --output\n"
    "                       may be omitted\n"
    "  --help               show this help\n\n"
    "Amounts have at most 6 decimals. An omitted amount is stored as unknown.\n";

static const char LIST_HELP[] = "usage: hubctl price list [--provider PROVIDER]\n\n"
                                "Lists prices in USD (per 1M tokens, per image).\n\n"
                                "  --provider PROVIDER   only rows of this provider or vendor\n"
                                "  --help                show this help\n";

static const char SQL_LIST[] =
    "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source FROM prices "
    "WHERE (? IS NULL OR provider = ?) ORDER BY provider, model";

/* Parses an optional amount; -1 when absent. false (after a usage line) when malformed. */
static bool amount(const char *cmd, const char *opt, const char *s, long long *micro, int *status)
{
    *micro = -1;
    if (s == NULL)
        return true;
    if (!hub_price_parse_usd(s, micro)) {
        *status = hc_usage(cmd, "%s must be a USD amount like 2.50 (at most 6 decimals)", opt);
        return false;
    }
    return true;
}

/* The amounts of a price in micro-USD (NULL / negative: unknown) into j. */
static void price_json(hub_jobj *j, const char *const micro[4])
{
    static const char *const KEYS[] = {"input_per_1m_micro", "output_per_1m_micro",
                                       "cached_input_per_1m_micro", "per_image_micro"};
    for (int i = 0; i < 4; i++)
        hub_jobj_raw(j, KEYS[i], micro[i]);
}

/* Writes the audit row of "price set" for target (PROVIDER/MODEL): the row before (cur,
 * from hub_price_set, when there was one) and the amounts set. */
static bool audit_set(hubctl *h, const char *target, const hub_dbres *cur, const long long v[4])
{
    hub_jobj before, after;
    char num[4][24];
    const char *now[4], *was[4];
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    for (int i = 0; i < 4; i++) {
        snprintf(num[i], sizeof(num[i]), "%lld", v[i]);
        now[i] = v[i] < 0 ? NULL : num[i];
        was[i] = cur->nrows > 0 ? hub_dbres_get(cur, 0, 2 + i) : NULL;
    }
    if (cur->nrows > 0) {
        price_json(&before, was);
        hub_jobj_str(&before, "effective_date", hub_dbres_get(cur, 0, 6));
        hub_jobj_str(&before, "source", hub_dbres_get(cur, 0, 7));
    }
    price_json(&after, now);
    hub_jobj_str(&after, "source", "hubctl");
    bool ok = hc_audit(h, "price.set", "price", target, cur->nrows > 0 ? &before : NULL, &after);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return ok;
}

/* Appends ", LABEL $X" to out when v is known. */
static void describe(char *out, size_t outsz, const char *label, long long v)
{
    char usd[48];
    size_t n = strlen(out);
    if (v < 0 || n >= outsz)
        return;
    hub_fmt_usd(v, 2, usd, sizeof(usd));
    snprintf(out + n, outsz - n, "%s%s $%s", n > 0 ? ", " : "", label, usd);
}

static int price_set(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "price set";
    int status = HC_EXIT_FAIL;
    const char *in_s = NULL, *out_s = NULL, *cached_s = NULL, *image_s = NULL;
    const hc_opt opts[] = {{"input", &in_s, NULL},
                           {"output", &out_s, NULL},
                           {"cached-input", &cached_s, NULL},
                           {"per-image", &image_s, NULL}};
    long long in = -1, out = -1, cached = -1, image = -1;
    bool owner_ok = false;
    hc_pos pos;
    char provider[65];
    char target[256]; /* the column holds 255 characters */
    char what[256] = "";

    if (!hc_args(argc, argv, CMD, SET_HELP, opts, 4, 1, "PROVIDER/MODEL", &pos, &status))
        return status;
    const char *slash = strchr(pos.v[0], '/');
    size_t plen = slash != NULL ? (size_t)(slash - pos.v[0]) : 0;
    if (slash == NULL || plen == 0 || plen >= sizeof(provider))
        return hc_usage(CMD, "expected PROVIDER/MODEL, e.g. openai/gpt-4o");
    memcpy(provider, pos.v[0], plen);
    provider[plen] = '\0';
    const char *model = slash + 1;
    if (!hub_name_ok(provider, 64, HUB_CHARS_PROVIDER))
        return hc_usage(CMD, "'%s' is not a valid provider name", provider);
    if (!hub_model_name_ok(model))
        return hc_usage(CMD, "model names are up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                             "without \"..\"");
    if (!amount(CMD, "--input", in_s, &in, &status) ||
        !amount(CMD, "--output", out_s, &out, &status) ||
        !amount(CMD, "--cached-input", cached_s, &cached, &status) ||
        !amount(CMD, "--per-image", image_s, &image, &status))
        return status;
    if (image < 0 && (in < 0 || out < 0))
        return hc_usage(CMD, "--input and --output are required (unless --per-image is given)");

    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    if (!hub_price_owner_ok(db, provider, &owner_ok)) {
        hc_err("database error: %s", hub_db_error(db));
        return HC_EXIT_FAIL;
    }
    if (!owner_ok) {
        hc_err("'%s' is neither a provider (see 'hubctl provider list') nor a vendor "
               "(openai, anthropic, google)",
               provider);
        return HC_EXIT_FAIL;
    }
    const long long amounts[4] = {in, out, cached, image};
    hub_dbres cur = {0};
    snprintf(target, sizeof(target), "%s/%s", provider, model);
    bool ok = hc_tx_begin(h);
    if (ok && !hub_price_set(db, provider, model, amounts, "hubctl", &cur)) {
        hc_err("database error: %s", hub_db_error(db));
        ok = false;
    }
    ok = ok && audit_set(h, target, &cur, amounts) && hc_tx_commit(h);
    hc_tx_rollback(h);
    hub_dbres_free(&cur);
    if (!ok)
        return HC_EXIT_FAIL;
    describe(what, sizeof(what), "input/1M", in);
    describe(what, sizeof(what), "output/1M", out);
    describe(what, sizeof(what), "cached input/1M", cached);
    describe(what, sizeof(what), "per image", image);
    printf("price set for %s/%s: %s\n", provider, model, what);
    return HC_EXIT_OK;
}

/* A row of "price list": the amounts (micro-USD) in USD. */
static void list_cells(const hub_dbres *r, int i, const char **cells, char (*buf)[HC_CELL_MAX])
{
    for (int k = 2; k < 6; k++) {
        if (cells[k] != NULL) {
            hub_fmt_usd(hc_llval(hub_dbres_get(r, i, k)), 2, buf[k], HC_CELL_MAX);
            cells[k] = buf[k];
        }
    }
}

static int price_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"PROVIDER",  "MODEL",     "INPUT/1M",  "OUTPUT/1M",
                                        "CACHED/1M", "PER_IMAGE", "EFFECTIVE", "SOURCE"};
    int status = HC_EXIT_FAIL;
    const char *provider = NULL;
    const hc_opt opts[] = {{"provider", &provider, NULL}};
    hc_pos pos;

    if (!hc_args(argc, argv, "price list", LIST_HELP, opts, 1, 0, "", &pos, &status))
        return status;
    hub_dbp p[2] = {DB_STR(provider), DB_STR(provider)};
    return hc_list(h, SQL_LIST, p, 2, 8, HEADS, 0x3cu, list_cells);
}

int hc_price_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"set", price_set, "set the price of a model"},
        {"list", price_list, "list prices"},
    };
    return hc_dispatch(h, "price", "The price catalogue (USD, stored as integer micro-USD).", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
