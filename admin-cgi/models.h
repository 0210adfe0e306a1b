/*
 * models.h — the two halves of models.cgi: model routes (models.c) and the price
 * catalogue (prices.c).
 */
#ifndef MODELS_H
#define MODELS_H

#include "page.h"

/* GET ?view=prices: the price list, the set-price form (?edit=ID pre-fills it). status
 * 400/404 re-shows it with p->err after a refused change. */
void pr_view(pg *p, int status);
/* POST action=price_set (provider, model, input, output, cached_input, per_image) or
 * price_remove (id). */
void pr_post(pg *p, const char *action);

#endif
