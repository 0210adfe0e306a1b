/*
 * hub_svg.h — charts as inline SVG, drawn on the server: readable without JavaScript, with
 * axes, tick labels, a legend, and a <title> on every bar (the browser shows it on hover).
 *
 * Every label goes through hub_html_esc (the same rules hold for SVG text and attribute
 * values inside an HTML page). Colours are presentation attributes, not style attributes, so
 * the pages' Content-Security-Policy (default-src 'self') lets them through. Coordinates are
 * whole numbers in a fixed viewBox; the SVG scales to its container's width.
 */
#ifndef HUB_SVG_H
#define HUB_SVG_H

#include "hub_buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Formats a value for a tick label or a tooltip ("$1.25", "12.3k"). */
typedef void (*hub_svg_fmt)(double v, char *out, size_t outsz);

/* Ready-made formatters: US dollars from micro-USD, and plain counts (k, M). */
void hub_svg_fmt_usd_micro(double v, char *out, size_t outsz);
void hub_svg_fmt_count(double v, char *out, size_t outsz);

typedef struct {
    const char *id;              /* element id prefix (constant: "cost", "tokens") */
    const char *title;           /* the chart's title (escaped) */
    const char *desc;            /* a sentence describing it, for screen readers; may be NULL */
    int nx;                      /* buckets along the x axis */
    const char *const *x_labels; /* nx labels; thinned to fit */
    int ns;                      /* stacked series */
    const char *const *s_labels; /* ns legend entries */
    const double *values;        /* nx * ns values ≥ 0, values[x * ns + s] */
    hub_svg_fmt fmt;
} hub_svg_stack;

/* A stacked bar chart over time. false only when out of memory (nothing appended then). */
bool hub_svg_stacked_bars(hub_buf *b, const hub_svg_stack *c);

/* Horizontal bars (top spenders): n labels and values ≥ 0, largest first as given. */
bool hub_svg_hbars(hub_buf *b, const char *id, const char *title, int n, const char *const *labels,
                   const double *values, hub_svg_fmt fmt);

/* The series colour i (the last colour, grey, is for "other"). */
const char *hub_svg_color(int i, bool other);

#endif
