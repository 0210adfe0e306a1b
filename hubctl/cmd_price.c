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

#include <getopt.h>
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

static const char SQL_PROVIDER[] = "SELECT id FROM providers WHERE name = ?";
static const char SQL_UPSERT[] =
    "INSERT INTO prices (provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_DATE(), 'hubctl') ON DUPLICATE KEY UPDATE "
    "input_per_1m_micro = VALUES(input_per_1m_micro), "
    "output_per_1m_micro = VALUES(output_per_1m_micro), "
    "cached_input_per_1m_micro = VALUES(cached_input_per_1m_micro), "
    "per_image_micro = VALUES(per_image_micro), effective_date = VALUES(effective_date), "
    "source = VALUES(source)";
static const char SQL_CURRENT[] =
    "SELECT input_per_1m_micro, output_per_1m_micro, cached_input_per_1m_micro, "
    "per_image_micro, effective_date, source FROM prices WHERE provider = ? AND model = ? "
    "FOR UPDATE";
static const char SQL_LIST[] =
    "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source FROM prices "
    "WHERE (? IS NULL OR provider = ?) ORDER BY provider, model";

static bool is_vendor(const char *p)
{
    return strcmp(p, "openai") == 0 || strcmp(p, "anthropic") == 0 || strcmp(p, "google") == 0;
}

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

static hub_dbp micro_param(long long v)
{
    return v < 0 ? DB_NULL : DB_INT(v);
}

/* The amounts of a price in micro-USD (NULL / negative: unknown) into j. */
static void price_json(hc_json *j, const char *const micro[4])
{
    static const char *const KEYS[] = {"input_per_1m_micro", "output_per_1m_micro",
                                       "cached_input_per_1m_micro", "per_image_micro"};
    for (int i = 0; i < 4; i++)
        hc_json_raw(j, KEYS[i], micro[i]);
}

/* Writes the audit row of "price set" for target (PROVIDER/MODEL): the row before (when
 * there was one) and the amounts set. */
static bool audit_set(hubctl *h, const char *target, const hub_dbres *cur, const long long v[4])
{
    hc_json before, after;
    char num[4][24];
    const char *now[4], *was[4];
    hc_json_begin(&before);
    hc_json_begin(&after);
    for (int i = 0; i < 4; i++) {
        snprintf(num[i], sizeof(num[i]), "%lld", v[i]);
        now[i] = v[i] < 0 ? NULL : num[i];
        was[i] = cur->nrows > 0 ? hub_dbres_get(cur, 0, i) : NULL;
    }
    if (cur->nrows > 0) {
        price_json(&before, was);
        hc_json_str(&before, "effective_date", hub_dbres_get(cur, 0, 4));
        hc_json_str(&before, "source", hub_dbres_get(cur, 0, 5));
    }
    price_json(&after, now);
    hc_json_str(&after, "source", "hubctl");
    bool ok = hc_audit(h, "price.set", "price", target, cur->nrows > 0 ? &before : NULL, &after);
    hc_json_free(&before);
    hc_json_free(&after);
    return ok;
}

/* Appends ", LABEL $X" to out when v is known. */
static void describe(char *out, size_t outsz, const char *label, long long v)
{
    char usd[48];
    size_t n = strlen(out);
    if (v < 0 || n >= outsz)
        return;
    hc_fmt_usd(v, 2, usd, sizeof(usd));
    snprintf(out + n, outsz - n, "%s%s $%s", n > 0 ? ", " : "", label, usd);
}

static int price_set(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "price set";
    static const struct option OPTS[] = {
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"cached-input", required_argument, NULL, 'c'},
        {"per-image", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_FAIL;
    const char *in_s = NULL, *out_s = NULL, *cached_s = NULL, *image_s = NULL;
    long long in = -1, out = -1, cached = -1, image = -1, pid = 0;
    hc_pos pos = {0};
    char provider[65];
    char target[256]; /* the column holds 255 characters */
    char what[256] = "";

    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'i':
            in_s = optarg;
            break;
        case 'o':
            out_s = optarg;
            break;
        case 'c':
            cached_s = optarg;
            break;
        case 'p':
            image_s = optarg;
            break;
        case 'h':
            fputs(SET_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 1, CMD, "PROVIDER/MODEL", &status))
        return status;
    const char *slash = strchr(pos.v[0], '/');
    size_t plen = slash != NULL ? (size_t)(slash - pos.v[0]) : 0;
    if (slash == NULL || plen == 0 || plen >= sizeof(provider))
        return hc_usage(CMD, "expected PROVIDER/MODEL, e.g. openai/gpt-4o");
    memcpy(provider, pos.v[0], plen);
    provider[plen] = '\0';
    const char *model = slash + 1;
    if (!hc_name_ok(provider, 64, HC_CHARS_PROVIDER))
        return hc_usage(CMD, "'%s' is not a valid provider name", provider);
    if (!hc_model_name_ok(model))
        return hc_usage(CMD, "model names are up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                             "without \"..\"");
    if (!amount(CMD, "--input", in_s, &in, &status) ||
        !amount(CMD, "--output", out_s, &out, &status) ||
        !amount(CMD, "--cached-input", cached_s, &cached, &status) ||
        !amount(CMD, "--per-image", image_s, &image, &status))
        return status;
    if (image < 0 && (in < 0 || out < 0))
        return hc_usage(CMD, "--input and --output are required (unless --per-image is given)");

    if (!is_vendor(provider)) {
        if (!hc_lookup_id(h, SQL_PROVIDER, provider, &pid))
            return HC_EXIT_FAIL;
        if (pid == 0) {
            hc_err("'%s' is neither a provider (see 'hubctl provider list') nor a vendor "
                   "(openai, anthropic, google)",
                   provider);
            return HC_EXIT_FAIL;
        }
    }
    hub_dbp p[6] = {DB_STR(provider), DB_STR(model),       micro_param(in),
                    micro_param(out), micro_param(cached), micro_param(image)};
    const long long amounts[4] = {in, out, cached, image};
    hub_dbres cur = {0};
    snprintf(target, sizeof(target), "%s/%s", provider, model);
    bool ok = hc_tx_begin(h) && hc_exec(h, SQL_CURRENT, p, 2, &cur, NULL, NULL) &&
              hc_exec(h, SQL_UPSERT, p, 6, NULL, NULL, NULL) &&
              audit_set(h, target, &cur, amounts) && hc_tx_commit(h);
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

static int price_list(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "price list";
    static const struct option OPTS[] = {
        {"provider", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const HEADS[] = {"PROVIDER",  "MODEL",     "INPUT/1M",  "OUTPUT/1M",
                                        "CACHED/1M", "PER_IMAGE", "EFFECTIVE", "SOURCE"};
    int status = HC_EXIT_FAIL;
    const char *provider = NULL;
    hc_pos pos = {0};
    hub_dbres r;
    hc_table t;

    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'p':
            provider = optarg;
            break;
        case 'h':
            fputs(LIST_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 0, CMD, "", &status))
        return status;
    hub_dbp p[2] = {DB_STR(provider), DB_STR(provider)};
    if (!hc_exec(h, SQL_LIST, p, 2, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 8, HEADS, 0x3cu);
    for (int i = 0; i < r.nrows; i++) {
        char usd[4][48];
        const char *row[8];
        row[0] = hub_dbres_get(&r, i, 0);
        row[1] = hub_dbres_get(&r, i, 1);
        for (int k = 0; k < 4; k++) {
            const char *v = hub_dbres_get(&r, i, 2 + k);
            if (v != NULL)
                hc_fmt_usd(hc_llval(v), 2, usd[k], sizeof(usd[k]));
            row[2 + k] = v != NULL ? usd[k] : NULL;
        }
        row[6] = hub_dbres_get(&r, i, 6);
        row[7] = hub_dbres_get(&r, i, 7);
        hc_table_add(&t, row);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    hub_dbres_free(&r);
    return status;
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
