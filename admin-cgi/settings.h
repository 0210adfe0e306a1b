/*
 * settings.h — settings.cgi's parts: the OIDC client (settings.c) and prompt logging
 * (settings_prompts.c).
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include "page.h"

#include <stdbool.h>

/* The "Prompt logging" section: its state, the hub.conf keys that bound it, and a form that
 * turns it on or off (action=prompts_on / prompts_off). */
void st_prompts_section(pg *p);
/* POST action=prompts_on / prompts_off: changes the setting with its audit row, then 303. */
void st_prompts_post(pg *p, bool on);
/* The ok notices of ?done= codes of prompt logging (pairs for pg_done_notice). */
extern const char *const ST_PROMPTS_DONE[];

#endif
