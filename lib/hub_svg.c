/*
 * hub_svg.c — server-drawn SVG charts (see hub_svg.h).
 *
 * Layout of the stacked chart (viewBox 800 × 320): the plot area, a y axis with five "nice"
 * ticks (1, 2, 2.5 or 5 × 10^k) and grid lines, x labels thinned to at most 12, and the legend
 * below. Each bar segment carries a <title>: "series · bucket: value".
 */
#include "hub_svg.h"

#include "hub_html.h"

#include <stdio.h>
#include <string.h>

#define W       800
#define H       320
#define LEFT    72
#define RIGHT   16
#define TOP     36
#define PLOT_H  190
#define LEG_Y   (TOP + PLOT_H + 48)
#define NCOLORS 8

static const char *const COLORS[NCOLORS] = {"#2563eb", "#f59e0b", "#10b981", "#ef4444",
                                            "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"};

const char *hub_svg_color(int i, bool other)
{
    return other ? "#9ca3af" : COLORS[(i < 0 ? 0 : i) % NCOLORS];
}

void hub_svg_fmt_usd_micro(double v, char *out, size_t outsz)
{
    double usd = v / 1e6;
    if (usd >= 1e6)
        snprintf(out, outsz, "$%.2fM", usd / 1e6);
    else if (usd >= 1e4)
        snprintf(out, outsz, "$%.1fk", usd / 1e3);
    else if (usd >= 100 || usd == 0)
        snprintf(out, outsz, "$%.0f", usd);
    else if (usd >= 1)
        snprintf(out, outsz, "$%.2f", usd);
    else
        snprintf(out, outsz, "$%.4f", usd);
}

void hub_svg_fmt_count(double v, char *out, size_t outsz)
{
    if (v >= 1e9)
        snprintf(out, outsz, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(out, outsz, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, outsz, "%.1fk", v / 1e3);
    else
        snprintf(out, outsz, "%.0f", v);
}

/* A step of 1, 2, 2.5 or 5 × 10^k so that about five steps reach max. */
static double nice_step(double max)
{
    if (max <= 0)
        return 1;
    double raw = max / 5, p = 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw)
        p /= 10;
    double f = raw / p;
    double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return m * p;
}

/* Whole-number rounding and ceiling without libm. */
static int iround(double v)
{
    return (int)(v >= 0 ? v + 0.5 : v - 0.5);
}

static double ceil_pos(double v)
{
    double t = (double)(long long)v;
    return t < v ? t + 1 : t;
}

static void fmt_or_plain(hub_svg_fmt fmt, double v, char *out, size_t n)
{
    if (fmt != NULL)
        fmt(v, out, n);
    else
        hub_svg_fmt_count(v, out, n);
}

/* Appends everything or nothing. */
static bool done(hub_buf *b, size_t start, bool ok)
{
    if (!ok) {
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
    }
    return ok;
}

static bool head(hub_buf *b, const char *id, const char *title, const char *desc, int h)
{
    bool ok = hub_html_printf(b,
                              "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
                              "viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
                              "aria-labelledby=\"%s-t %s-d\" font-family=\"sans-serif\" "
                              "font-size=\"12\">",
                              W, h, id, id);
    ok = ok && hub_html_printf(b, "<title id=\"%s-t\">%s</title><desc id=\"%s-d\">%s</desc>", id,
                               title, id, desc != NULL ? desc : title);
    ok = ok && hub_html_printf(b,
                               "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\" "
                               "fill=\"currentColor\">%s</text>",
                               LEFT, title);
    return ok;
}

bool hub_svg_stacked_bars(hub_buf *b, const hub_svg_stack *c)
{
    size_t start = b->len;
    double max = 0;
    char num[48];
    for (int x = 0; x < c->nx; x++) {
        double sum = 0;
        for (int s = 0; s < c->ns; s++)
            sum += c->values[x * c->ns + s] > 0 ? c->values[x * c->ns + s] : 0;
        if (sum > max)
            max = sum;
    }
    double step = nice_step(max), top = step * ceil_pos(max / step);
    if (top <= 0)
        top = step;
    int legend_rows = (c->ns + 3) / 4;
    int h = LEG_Y + 8 + legend_rows * 20;
    bool ok = head(b, c->id, c->title, c->desc, h);
    int plot_w = W - LEFT - RIGHT;
    /* y axis: grid lines and tick labels */
    for (int i = 0; ok && i <= 5; i++) {
        double v = step * i;
        if (v > top + step / 2)
            break;
        int y = TOP + PLOT_H - iround(v / top * PLOT_H);
        fmt_or_plain(c->fmt, v, num, sizeof(num));
        ok = hub_html_printf(b,
                             "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d1d5db\" "
                             "stroke-width=\"1\"/><text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                             "fill=\"currentColor\">%s</text>",
                             LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, num);
    }
    ok = ok && hub_html_printf(b,
                               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#6b7280\" "
                               "stroke-width=\"1\"/>",
                               LEFT, TOP, LEFT, TOP + PLOT_H);
    /* bars */
    int slot = c->nx > 0 ? plot_w / c->nx : plot_w;
    if (slot < 1)
        slot = 1;
    int bw = slot > 4 ? slot * 3 / 4 : slot;
    for (int x = 0; ok && x < c->nx; x++) {
        double acc = 0;
        int x0 = LEFT + x * slot + (slot - bw) / 2;
        for (int s = 0; ok && s < c->ns; s++) {
            double v = c->values[x * c->ns + s];
            if (v <= 0)
                continue;
            int y_hi = TOP + PLOT_H - iround((acc + v) / top * PLOT_H);
            int y_lo = TOP + PLOT_H - iround(acc / top * PLOT_H);
            acc += v;
            int hgt = y_lo - y_hi > 0 ? y_lo - y_hi : 1;
            fmt_or_plain(c->fmt, v, num, sizeof(num));
            ok = hub_html_printf(
                b,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                "fill=\"%s\"><title>%s · %s: %s</title></rect>",
                x0, y_lo - hgt, bw, hgt,
                hub_svg_color(s, s == c->ns - 1 && strcmp(c->s_labels[s], "other") == 0),
                c->s_labels[s], c->x_labels[x], num);
        }
    }
    /* x axis and thinned labels */
    ok = ok && hub_html_printf(b,
                               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#6b7280\" "
                               "stroke-width=\"1\"/>",
                               LEFT, TOP + PLOT_H, W - RIGHT, TOP + PLOT_H);
    int every = c->nx > 12 ? (c->nx + 11) / 12 : 1;
    for (int x = 0; ok && x < c->nx; x += every) {
        const char *lab = c->x_labels[x];
        /* "2025-09-01" shows as "09-01", "2025-09-01 14:00" as "14:00" */
        const char *shown = strlen(lab) > 11 ? lab + 11 : strlen(lab) == 10 ? lab + 5 : lab;
        ok = hub_html_printf(b,
                             "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                             "fill=\"currentColor\">%s</text>",
                             LEFT + x * slot + slot / 2, TOP + PLOT_H + 18, shown);
    }
    if (ok && c->nx > 0)
        ok = hub_html_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#6b7280\">%s – %s</text>", LEFT,
                             TOP + PLOT_H + 36, c->x_labels[0], c->x_labels[c->nx - 1]);
    /* legend */
    for (int s = 0; ok && s < c->ns; s++) {
        int lx = LEFT + (s % 4) * (plot_w / 4), ly = LEG_Y + (s / 4) * 20;
        ok = hub_html_printf(
            b,
            "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
            "<text x=\"%d\" y=\"%d\" fill=\"currentColor\">%s</text>",
            lx, ly - 10, hub_svg_color(s, s == c->ns - 1 && strcmp(c->s_labels[s], "other") == 0),
            lx + 18, ly, c->s_labels[s]);
    }
    if (ok && c->ns == 0)
        ok = hub_html_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#6b7280\">%s</text>", LEFT + 12,
                             TOP + PLOT_H / 2, "No usage in this period.");
    ok = ok && hub_html_raw(b, "</svg></figure>\n");
    return done(b, start, ok);
}

bool hub_svg_hbars(hub_buf *b, const char *id, const char *title, int n, const char *const *labels,
                   const double *values, hub_svg_fmt fmt)
{
    size_t start = b->len;
    const int row = 24, label_w = 200, bar_x = label_w + 10, bar_w = W - bar_x - 110;
    int h = TOP + (n > 0 ? n : 1) * row + 12;
    double max = 0;
    char num[48];
    for (int i = 0; i < n; i++)
        max = values[i] > max ? values[i] : max;
    bool ok = head(b, id, title, NULL, h);
    for (int i = 0; ok && i < n; i++) {
        int y = TOP + i * row;
        int w = max > 0 ? iround(values[i] / max * bar_w) : 0;
        fmt_or_plain(fmt, values[i], num, sizeof(num));
        ok = hub_html_printf(b,
                             "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                             "fill=\"currentColor\">%s</text>"
                             "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"%s\">"
                             "<title>%s: %s</title></rect>"
                             "<text x=\"%d\" y=\"%d\" fill=\"currentColor\">%s</text>",
                             label_w, y + 13, labels[i], bar_x, y, w > 0 ? w : 1,
                             hub_svg_color(0, false), labels[i], num, bar_x + w + 6, y + 13, num);
    }
    if (ok && n == 0)
        ok = hub_html_printf(b, "<text x=\"%d\" y=\"%d\" fill=\"#6b7280\">%s</text>", bar_x,
                             TOP + 14, "No usage in this period.");
    ok = ok && hub_html_raw(b, "</svg></figure>\n");
    return done(b, start, ok);
}
