"""The admin pages' security, over plain HTTP against the quickstart's hub (lighttpd) and the
test-only Apache of tests/webserver-auth/ (the "webserver" sign-in mode; started here when
not running, stopped again at the end).

  * roles: every page for signed-out, member, viewer and admin → 303 to login.cgi / 403 /
    200 / 404 as the roles allow; viewers get read-only pages; every answer carries the
    security headers (CSP default-src 'self', X-Frame-Options DENY, nosniff,
    Referrer-Policy no-referrer, Cache-Control no-store);
  * CSRF: forged POSTs (no csrf field, a wrong one, another session's) → 403 and nothing
    changed; the sign-in form's pre-session token; POSTs by too small a role → 403;
  * GET never changes anything, also with action=… parameters and a valid csrf;
  * self-service isolation: nobody revokes another user's token or a service key through
    tokens.cgi by changing ids (404, the key still works);
  * cookies: HttpOnly, SameSite=Strict, Path=/, no Secure only because hub.conf says
    cookie_secure = 0 (asserted), a new id at every sign-in, never in the HTML, hashed in the
    database; sign-out ends the session;
  * escaping: hostile values in query strings, refused forms, e-mail addresses and a user
    name provisioned by the web server appear escaped; refused values get a readable 400;
  * sign-in throttling: login_max_failures wrong passwords → 429 for the account and the
    client address (run from other loopback addresses, cleaned up after), no user
    enumeration;
  * the webserver mode: Apache's Basic auth, groups → roles, headers cannot forge the user
    or the groups, CSRF still applies, another user's session cookie does not carry over;
  * secrets: the fixtures' canary provider key and one added through the page never appear
    in a page, an error, or a log file under $HUB_HOME/log.

Env (tests/run.sh): HUB_HOME, HUB_PORT, HUB_CONF; MOCK_PORT (optional). hub.conf should list
admin_auth = local,oidc,webserver (the header-forging check on the main server needs
webserver) — see the report lines printed as "# note:" otherwise.
"""
import traceback

from hubtest import check, done
from pagesec.canaries import canary_tests
from pagesec.client import setup
from pagesec.csrf import csrf_tests, get_is_safe
from pagesec.escaping import escaping_tests
from pagesec.roles import role_matrix
from pagesec.sessions import cookie_tests, throttling, token_isolation
from pagesec.webserver import webserver_tests


def main():
    p = setup()
    role_matrix(p)
    csrf_tests(p)
    get_is_safe(p)
    token_isolation(p)
    escaping_tests(p)
    throttling(p)
    webserver_tests(p)
    cookie_tests(p)
    canary_tests(p)
    done()


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - report and fail, never a silent pass
        traceback.print_exc()
        check(False, "the page security tests run to the end", repr(e))
        done()
