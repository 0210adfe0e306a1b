/*
 * users.h — the parts of users.cgi: the views (users.c) and the changes (users_post.c).
 */
#ifndef USERS_H
#define USERS_H

#include "page.h"

/* The user list with the add-user form; status ≠ 200 re-shows it with p->err. */
void uv_list(pg *p, int status);
/* The teams with the add-team form. */
void uv_teams(pg *p, int status);
/* One user: facts, role, status, teams, password. */
void uv_user(pg *p, long long id, int status);

/* Handles a POST (field action): create, role, disable, enable, member_add, member_remove,
 * primary, password, team_create. */
void up_post(pg *p);

/* The roles, as select options (value, text pairs) and their count. */
extern const char *const UV_ROLES[];
#define UV_NROLES 3

#endif
