"""hubctl as an admin uses it: help everywhere, one-line errors, keys printed once, usage
reports whose numbers equal the ledger's sums in every format."""
import csv
import io
import json
import re

from hubtest import check, done, hubctl, sql

subcommands = [["provider", "add"], ["provider", "list"], ["model", "add"], ["price", "set"],
               ["user", "add"], ["key", "create"], ["key", "list"], ["key", "revoke"], ["usage"],
               ["key-rotate"], ["migrate"]]
for sc in subcommands:
    rc, out, err = hubctl(*sc, "--help", check_rc=False)
    check(rc == 0 and "usage" in (out + err).lower(), f"hubctl {' '.join(sc)} --help")

rc, out, err = hubctl("key", "revoke", "no-such-key", check_rc=False)
check(rc != 0 and err.count("\n") == 1 and err.startswith("hubctl:"), "error: one line on stderr, non-zero exit", err)
rc, out, err = hubctl("provider", "add", "x1", "--type", "openai", "--base-url", "http://example.invalid/v1",
                      stdin="sk-x\n", check_rc=False)
check(rc != 0 and "http" in err, "plain-http base URL refused without --internal", err.strip())
rc, out, err = hubctl("provider", "add", "x2", "--type", "bogus", "--base-url", "https://a.example/v1",
                      stdin="sk-x\n", check_rc=False)
check(rc != 0, "unknown provider type refused")
rc, out, err = hubctl("provider", "add", "x3", "--type", "openai", "--base-url", "https://a.example/v1",
                      stdin="\n", check_rc=False)
check(rc != 0, "empty provider key refused")
rc, out, err = hubctl("price", "set", "mock/gpt-4o-mini", "--input", "-1", "--output", "1", check_rc=False)
check(rc != 0, "negative price refused")
rc, out, err = hubctl("key", "create", "--name", "alice-main", "--user", "alice", check_rc=False)
check(rc != 0 and out == "", "duplicate key name refused, nothing on stdout")

rc, out, err = hubctl("key", "create", "--name", "once", "--user", "alice")
check(re.fullmatch(r"hub_[0-9A-Za-z]{46}\n", out) is not None, "key create prints the secret alone", repr(out))
rc, listing, _ = hubctl("key", "list")
check(out.strip() not in listing and out.strip()[:12] in listing, "key list shows the prefix, never the secret")
check(out.strip() not in json.dumps(sql("SELECT id, name, HEX(key_hash), prefix, app, models FROM api_keys")), "the secret is not stored")

# usage reports equal the ledger sums
truth = {r[0]: r[1:] for r in sql(
    "SELECT CONCAT(provider,'/',model), COUNT(*), COALESCE(SUM(prompt_tokens),0), "
    "COALESCE(SUM(completion_tokens),0), COALESCE(SUM(images),0), COALESCE(SUM(cost_micro),0) "
    "FROM usage_log GROUP BY provider, model")}
rc, out, _ = hubctl("usage", "--by", "model", "--format", "json")
rep = {r["group"]: r for r in json.loads(out)}
same = set(rep) == set(truth) and all(
    rep[g]["requests"] == int(t[0]) and rep[g]["prompt_tokens"] == int(t[1])
    and rep[g]["completion_tokens"] == int(t[2]) and rep[g]["images"] == int(t[3])
    and round(rep[g]["cost_usd"] * 1e6) == int(t[4]) for g, t in truth.items())
check(same and len(truth) > 0, "usage --format json equals the ledger", f"{rep} vs {truth}")
rc, out, _ = hubctl("usage", "--by", "model", "--format", "csv")
rows = list(csv.DictReader(io.StringIO(out)))
check({r["group"]: int(r["requests"]) for r in rows} == {g: int(t[0]) for g, t in truth.items()},
      "usage --format csv equals the ledger")
rc, out, _ = hubctl("usage", "--by", "user")
check("alice" in out and "TOTAL" in out, "usage table by user")
rc, out, _ = hubctl("usage", "--by", "team", "--format", "json")
teams = {r["group"] for r in json.loads(out)}
check("red" in teams, "usage by team", str(teams))
rc, out, _ = hubctl("usage", "--by", "day", "--since", "2020-01-01", "--format", "json")
check(rc == 0 and len(json.loads(out)) >= 1, "usage by day since a date")
rc, out, err = hubctl("usage", "--by", "password", check_rc=False)
check(rc != 0, "usage --by outside the allow-list refused")
rc, out, err = hubctl("usage", "--since", "yesterday", check_rc=False)
check(rc != 0, "bad --since refused")
done()
