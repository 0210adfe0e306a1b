/*
 * hub_report_time.c — the time side of reports (see hub_report.h): time zones, periods in the
 * viewer's zone with their previous period, hourly/daily buckets, and the measure helpers
 * (sums, percentile estimates from the rollup histograms).
 *
 * Local dates go to UTC with mktime (tm_isdst = -1: the zone's rules decide), and back with
 * localtime_r, both in the zone hub_tz_use installed. Every boundary is a whole UTC hour,
 * because only whole-hour zones are accepted.
 */
#include "hub_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const hub_tz_names[] = {
    "Europe/London",   "Europe/Berlin",       "Europe/Paris",
    "Europe/Helsinki", "America/New_York",    "America/Chicago",
    "America/Denver",  "America/Los_Angeles", "America/Sao_Paulo",
    "Asia/Dubai",      "Asia/Singapore",      "Asia/Shanghai",
    "Asia/Tokyo",      "Australia/Sydney",    NULL,
};

bool hub_tz_parse(const char *s, hub_tz *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL || s[0] == '\0' || strcmp(s, "UTC") == 0) {
        snprintf(out->name, sizeof(out->name), "UTC");
        snprintf(out->posix, sizeof(out->posix), "UTC0");
        return true;
    }
    if (strncmp(s, "UTC", 3) == 0 && (s[3] == '+' || s[3] == '-')) {
        long h = 0;
        char *end = NULL;
        const char *d = s + 4;
        if (d[0] < '0' || d[0] > '9' || strlen(d) > 2)
            return false;
        h = strtol(d, &end, 10);
        if (*end != '\0' || h < 1 || h > (s[3] == '+' ? 14 : 12))
            return false;
        snprintf(out->name, sizeof(out->name), "UTC%c%ld", s[3], h);
        /* POSIX TZ offsets count west of Greenwich: UTC+2 is "<+02>-2" */
        snprintf(out->posix, sizeof(out->posix), "<%c%02ld>%s%ld", s[3], h, s[3] == '+' ? "-" : "",
                 h);
        return true;
    }
    for (int i = 0; hub_tz_names[i] != NULL; i++) {
        if (strcmp(s, hub_tz_names[i]) != 0)
            continue;
        char path[128];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", hub_tz_names[i]);
        if (access(path, R_OK) != 0)
            return false; /* without tzdata the C library would silently use UTC */
        snprintf(out->name, sizeof(out->name), "%s", hub_tz_names[i]);
        snprintf(out->posix, sizeof(out->posix), "%s", hub_tz_names[i]);
        return true;
    }
    return false;
}

void hub_tz_use(const hub_tz *tz)
{
    setenv("TZ", tz->posix[0] ? tz->posix : "UTC0", 1);
    tzset();
}

/* ---- periods ----------------------------------------------------------------------------- */

/* UTC epoch of local midnight of y-m-d (out-of-range days and months are normalised). */
static long long midnight(int y, int m, int d)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    return (long long)mktime(&tm) / 3600 * 3600;
}

static void local_date(long long t, char out[11])
{
    struct tm tm;
    time_t tt = (time_t)t;
    localtime_r(&tt, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long days_of(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses "YYYY-MM-DD" (a real date, 2000-2199) or, with month_only, "YYYY-MM". */
static bool parse_date(const char *s, bool month_only, int *y, int *m, int *d)
{
    size_t want = month_only ? 7 : 10;
    if (s == NULL || strlen(s) != want)
        return false;
    for (size_t i = 0; i < want; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    }
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = month_only ? 1 : (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*y < 2000 || *y > 2199 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
        return false;
    bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return !(*m == 2 && *d == 29 && !leap);
}

bool hub_period_make(hub_period *p, const char *kind, const char *from, const char *to, time_t now,
                     char *err, size_t errsz)
{
    struct tm tm;
    long long start = 0, end = 0, pstart = 0;
    int y, m, d, y2, m2, d2;

    memset(p, 0, sizeof(*p));
    localtime_r(&now, &tm);
    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1;
    d = tm.tm_mday;
    if (kind == NULL || kind[0] == '\0')
        kind = "7d";
    if (strcmp(kind, "today") == 0) {
        start = midnight(y, m, d);
        end = midnight(y, m, d + 1);
        pstart = midnight(y, m, d - 1);
    } else if (strcmp(kind, "7d") == 0 || strcmp(kind, "30d") == 0) {
        int n = kind[0] == '7' ? 7 : 30;
        start = midnight(y, m, d - (n - 1));
        end = midnight(y, m, d + 1);
        pstart = midnight(y, m, d - (2 * n - 1));
    } else if (strcmp(kind, "month") == 0) {
        start = midnight(y, m, 1);
        end = midnight(y, m + 1, 1);
        pstart = midnight(y, m - 1, 1);
    } else if (strcmp(kind, "chargeback") == 0) {
        if (!parse_date(from, true, &y, &m, &d)) {
            snprintf(err, errsz, "the month must look like 2025-09");
            return false;
        }
        start = midnight(y, m, 1);
        end = midnight(y, m + 1, 1);
        pstart = midnight(y, m - 1, 1);
        snprintf(p->month, sizeof(p->month), "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
    } else if (strcmp(kind, "custom") == 0) {
        if (!parse_date(from, false, &y, &m, &d) || !parse_date(to, false, &y2, &m2, &d2)) {
            snprintf(err, errsz, "from and to must be dates like 2025-09-01");
            return false;
        }
        long n = days_of(y2, m2, d2) - days_of(y, m, d) + 1;
        if (n < 1 || n > HUB_PERIOD_MAX_DAYS) {
            snprintf(err, errsz, "the custom period must run forwards, at most %d days",
                     HUB_PERIOD_MAX_DAYS);
            return false;
        }
        start = midnight(y, m, d);
        end = midnight(y2, m2, d2 + 1);
        pstart = midnight(y, m, d - (int)n);
    } else {
        snprintf(err, errsz, "unknown period (today, 7d, 30d, month or custom)");
        return false;
    }
    snprintf(p->kind, sizeof(p->kind), "%s", kind);
    long long hour_end = ((long long)now / 3600 + 1) * 3600;
    long long elapsed = (hour_end < end ? hour_end : end) - start;
    p->t0 = start;
    p->t1 = end;
    p->p0 = pstart;
    p->p1 = pstart + (elapsed > 0 ? elapsed : 0);
    if (p->p1 > start)
        p->p1 = start;
    p->bucket = end - start <= 25 * 3600 ? HUB_BUCKET_HOUR : HUB_BUCKET_DAY;
    local_date(start, p->from);
    local_date(end - 1, p->to);
    local_date(pstart, p->pfrom);
    local_date(p->p1 > pstart ? p->p1 - 1 : pstart, p->pto);
    return true;
}

/* ---- buckets ---------------------------------------------------------------------------- */

void hub_buckets_make(hub_buckets *b, const hub_period *p)
{
    b->n = 0;
    char prev[20] = "";
    for (long long t = p->t0; t < p->t1; t += 3600) {
        struct tm tm;
        char lab[20];
        time_t tt = (time_t)t;
        localtime_r(&tt, &tm);
        strftime(lab, sizeof(lab), p->bucket == HUB_BUCKET_HOUR ? "%Y-%m-%d %H:00" : "%Y-%m-%d",
                 &tm);
        if (strcmp(lab, prev) == 0)
            continue; /* the same local day (or the repeated hour when clocks go back) */
        if (b->n == HUB_MAX_BUCKETS)
            break;
        b->start[b->n] = t;
        memcpy(b->label[b->n], lab, sizeof(lab));
        memcpy(prev, lab, sizeof(lab));
        b->n++;
    }
    b->start[b->n] = p->t1;
}

int hub_buckets_find(const hub_buckets *b, long long t)
{
    int lo = 0, hi = b->n - 1;
    if (b->n == 0 || t < b->start[0] || t >= b->start[b->n])
        return -1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (b->start[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- measures --------------------------------------------------------------------------- */

void hub_meas_add(hub_meas *to, const hub_meas *m)
{
    for (int i = 0; i < HUB_RU_NM; i++)
        to->v[i] += m->v[i];
}

long long hub_meas_pct(const hub_meas *m, bool ttfb, double q)
{
    const long long *h = &m->v[ttfb ? HUB_RU_TTFB_HIST : HUB_RU_LAT_HIST];
    long long n = 0;
    for (int k = 0; k < HUB_RU_NHIST; k++)
        n += h[k];
    if (n <= 0)
        return -1;
    double target = q * (double)n, cum = 0;
    for (int k = 0; k < HUB_RU_NHIST; k++) {
        if (h[k] <= 0 || cum + (double)h[k] < target) {
            cum += (double)h[k];
            continue;
        }
        double lo = k == 0 ? 0 : hub_ru_hist_upper[k - 1];
        if (k == HUB_RU_NHIST - 1)
            return (long long)lo; /* the open bucket: "at least" */
        double hi = hub_ru_hist_upper[k];
        return (long long)(lo + (hi - lo) * (target - cum) / (double)h[k] + 0.5);
    }
    return hub_ru_hist_upper[HUB_RU_NHIST - 2];
}

long long hub_meas_mean(const hub_meas *m, bool ttfb)
{
    long long n = m->v[ttfb ? HUB_RU_TTFB_N : HUB_RU_LAT_N];
    long long s = m->v[ttfb ? HUB_RU_TTFB_SUM : HUB_RU_LAT_SUM];
    return n > 0 ? (s + n / 2) / n : -1;
}
