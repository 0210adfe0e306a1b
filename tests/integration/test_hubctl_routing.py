"""hubctl for routing: provider presets and their stored settings, several credentials per
provider (add/list/disable/enable/remove, secrets only ever stored sealed and never listed),
weights validated, models served by several providers in priority order with fallbacks, and
--help on every new command. Uses its own providers (rt-*) and removes them at the end."""
from hubtest import check, done, hubctl, sql

SEALED_OVERHEAD = 12 + 16  # nonce + GCM tag around the ciphertext


def provider(name):
    """providers row as a dict (None when absent); SQL NULL is None."""
    rows = sql("SELECT type, base_url, internal, preset, auth_header, api_version FROM providers "
               f"WHERE name = '{name}'")
    if not rows:
        return None
    keys = ("type", "base_url", "internal", "preset", "auth_header", "api_version")
    return {k: (None if v == "NULL" else v) for k, v in zip(keys, rows[0])}


def creds(name):
    """{label: (weight, status, last_error, cooldown_until, key_id, sealed length, hex)}"""
    rows = sql("SELECT c.label, c.weight, c.status, c.last_error, c.cooldown_until, c.key_id, "
               "LENGTH(c.secret_enc), HEX(c.secret_enc) FROM credentials c "
               f"JOIN providers p ON p.id = c.provider_id WHERE p.name = '{name}'")
    return {r[0]: tuple(None if v == "NULL" else v for v in r[1:]) for r in rows}


def add(name, *opts, key="sk-rt-default-0000", ok=True):
    rc, out, err = hubctl("provider", "add", name, *opts, stdin=key + "\n" if key is not None else "",
                          check_rc=False)
    return (rc == 0) == ok, rc, out, err


def one_line_error(rc, out, err):
    return rc != 0 and out == "" and err.startswith("hubctl:") and err.count("\n") == 1


sql("DELETE FROM providers WHERE name LIKE 'rt-%'")

# --- help everywhere
for sc in (["provider", "add"], ["provider", "list"], ["credential"], ["credential", "add"],
           ["credential", "list"], ["credential", "disable"], ["credential", "enable"],
           ["credential", "remove"], ["model", "add"], ["model", "list"], ["model", "remove"]):
    rc, out, err = hubctl(*sc, "--help", check_rc=False)
    check(rc == 0 and "usage" in out.lower() and err == "", f"hubctl {' '.join(sc)} --help")
rc, out, _ = hubctl("--help")
check("credential" in out, "hubctl --help lists the credential command")

# --- types and presets store the right settings
EXPECT = {
    "rt-openai": (["--type", "openai"],
                  ("openai", "https://api.openai.com/v1", "0", None, None, None)),
    "rt-ant": (["--type", "anthropic"],
               ("anthropic", "https://api.anthropic.com", "0", None, None, "2023-06-01")),
    "rt-ant2": (["--type", "anthropic", "--api-version", "2024-02-01"],
                ("anthropic", "https://api.anthropic.com", "0", None, None, "2024-02-01")),
    "rt-gem": (["--type", "gemini"],
               ("gemini", "https://generativelanguage.googleapis.com", "0", None, None, None)),
    "rt-ds": (["--preset", "deepseek"],
              ("openai-compatible", "https://api.deepseek.com/v1", "0", "deepseek", None, None)),
    "rt-xai": (["--preset", "xai", "--type", "openai-compatible"],
               ("openai-compatible", "https://api.x.ai/v1", "0", "xai", None, None)),
    "rt-or": (["--preset", "openrouter"],
              ("openai-compatible", "https://openrouter.ai/api/v1", "0", "openrouter", None, None)),
    "rt-az": (["--preset", "azure", "--base-url", "https://rt-res.openai.azure.com/"],
              ("openai-compatible", "https://rt-res.openai.azure.com", "0", "azure", "api-key",
               "2024-10-21")),
    "rt-az2": (["--preset", "azure", "--base-url", "https://rt-res2.openai.azure.com",
                "--api-version", "2025-01-01-preview"],
               ("openai-compatible", "https://rt-res2.openai.azure.com", "0", "azure", "api-key",
                "2025-01-01-preview")),
    "rt-ds2": (["--preset", "deepseek", "--base-url", "https://ds-proxy.example/v1"],
               ("openai-compatible", "https://ds-proxy.example/v1", "0", "deepseek", None, None)),
    "rt-int": (["--type", "openai-compatible", "--base-url", "http://10.1.2.3:8000/v1", "--internal"],
               ("openai-compatible", "http://10.1.2.3:8000/v1", "1", None, None, None)),
}
for name, (opts, want) in EXPECT.items():
    good, rc, out, err = add(name, *opts)
    got = provider(name)
    keys = ("type", "base_url", "internal", "preset", "auth_header", "api_version")
    check(good and got == dict(zip(keys, want)), f"provider add {' '.join(opts)} stores its settings",
          f"rc={rc} {err.strip()} {got}")

good, rc, out, err = add("rt-oll", "--preset", "ollama", key=None)
got = provider("rt-oll")
c = creds("rt-oll")
check(good and got == {"type": "openai-compatible", "base_url": "http://localhost:11434/v1",
                       "internal": "1", "preset": "ollama", "auth_header": None, "api_version": None},
      "ollama preset: localhost URL, internal", f"{err.strip()} {got}")
check(len(c) == 1 and int(list(c.values())[0][5]) == len("ollama") + SEALED_OVERHEAD,
      "ollama preset: empty stdin accepted, placeholder key stored sealed", str(c))
good, rc, out, err = add("rt-oll2", "--preset", "ollama", "--base-url", "http://gpu-box:11434/v1")
check(good and provider("rt-oll2")["base_url"] == "http://gpu-box:11434/v1",
      "ollama preset: an http --base-url override is allowed (internal)", err.strip())

# refused: each is one line on stderr, a non-zero exit, and no row
REFUSED = [
    ("rt-bad1", ["--type", "openai-compatible", "--base-url", "http://10.1.2.3/v1"],
     "plain http refused without --internal"),
    ("rt-bad2", ["--preset", "azure", "--base-url", "http://rt-res.openai.azure.com"],
     "azure with a plain http URL refused"),
    ("rt-bad3", ["--preset", "deepseek", "--base-url", "http://ds.example/v1"],
     "a preset's http override refused without --internal"),
    ("rt-bad4", ["--preset", "azure"], "azure without --base-url refused"),
    ("rt-bad5", ["--type", "openai-compatible"], "openai-compatible without --base-url refused"),
    ("rt-bad6", ["--preset", "deepseek", "--type", "openai"], "a preset with another --type refused"),
    ("rt-bad7", ["--preset", "bogus"], "unknown preset refused"),
    ("rt-bad8", ["--type", "openai", "--api-version", "2024-01-01"],
     "--api-version refused where it means nothing"),
    ("rt-bad9", ["--type", "openai", "--weight", "0"], "provider add --weight 0 refused"),
    ("rt-bad10", ["--type", "openai", "--weight", "1001"], "provider add --weight 1001 refused"),
    ("rt-bad11", ["--type", "openai", "--label", "has space"], "provider add bad --label refused"),
    ("rt-bad12", ["--type", "openai", "--base-url", "ftp://x.example"], "non-http scheme refused"),
]
for name, opts, what in REFUSED:
    good, rc, out, err = add(name, *opts, ok=False)
    check(good and one_line_error(rc, out, err) and provider(name) is None, what, err.strip())
good, rc, out, err = add("rt-bad13", "--type", "openai", key="", ok=False)
check(good and provider("rt-bad13") is None, "empty key refused for a non-ollama provider", err.strip())
check(add("rt-openai", "--type", "openai", ok=False)[0], "duplicate provider name refused")

# --- several credentials per provider
S1 = "sk-rt-default-0000"
S2 = "sk-rt-SECOND-4b1d9c0e7a2f5836"
S3 = "sk-rt-THIRD-9e8d7c6b5a4f3e2d"
rc, out, err = hubctl("credential", "add", "rt-openai", stdin=S2 + "\n", check_rc=False)
check(rc == 0 and "key-2" in out and S2 not in out + err, "credential add: default label key-2", out + err)
rc, out, err = hubctl("credential", "add", "rt-openai", "--label", "backup", "--weight", "7",
                      stdin=S3 + "\n", check_rc=False)
check(rc == 0 and "backup" in out, "credential add --label --weight", err.strip())
rc, out, err = hubctl("credential", "add", "rt-openai", "--label", "backup", stdin="sk-rt-dup\n",
                      check_rc=False)
check(one_line_error(rc, out, err), "duplicate label refused", err.strip())
for w in ("0", "1001", "-1", "1.5", "abc", ""):
    rc, out, err = hubctl("credential", "add", "rt-openai", "--label", "w" + (w or "empty"),
                          "--weight", w, stdin="sk-rt-w\n", check_rc=False)
    check(rc == 2 and one_line_error(rc, out, err), f"credential add --weight '{w}' refused", err.strip())
rc, out, err = hubctl("credential", "add", "rt-nope", stdin="sk-rt-x\n", check_rc=False)
check(one_line_error(rc, out, err), "credential add to an unknown provider refused", err.strip())
rc, out, err = hubctl("credential", "add", "rt-openai", stdin="", check_rc=False)
check(rc != 0, "credential add with an empty key refused")
rc, out, err = hubctl("credential", "add", "rt-oll", stdin="", check_rc=False)
check(rc == 0 and len(creds("rt-oll")) == 2, "credential add to an ollama provider: key optional", err.strip())

c = creds("rt-openai")
check(sorted(c) == ["backup", "default", "key-2"], "three labelled credentials stored", str(sorted(c)))
check({k: v[0] for k, v in c.items()} == {"default": "1", "key-2": "1", "backup": "7"},
      "weights stored", str({k: v[0] for k, v in c.items()}))
secrets = {"default": S1, "key-2": S2, "backup": S3}
only_cipher = all(
    c[label][4] is not None and int(c[label][5]) == len(s) + SEALED_OVERHEAD
    and s.encode().hex().upper() not in c[label][6] and s[6:].encode().hex().upper() not in c[label][6]
    for label, s in secrets.items())
check(only_cipher, "the database holds only ciphertext (sealed length, no plaintext, key id set)")

rc, listing, err = hubctl("credential", "list")
check(rc == 0 and all(h in listing for h in ("ID", "PROVIDER", "LABEL", "WEIGHT", "STATUS",
                                             "LAST_ERROR", "COOLDOWN_UNTIL", "KEY_ID")),
      "credential list columns", listing[:200])
check(not any(s in listing or s[6:] in listing for s in secrets.values()) and "backup" in listing,
      "credential list never shows a secret")
rc, mine, err = hubctl("credential", "list", "rt-openai")
lines = [l for l in mine.splitlines()[1:] if l.strip()]
check(rc == 0 and len(lines) == 3 and all("rt-openai" in l for l in lines),
      "credential list PROVIDER shows that provider only", mine)
rc, out, err = hubctl("credential", "list", "rt-nope", check_rc=False)
check(one_line_error(rc, out, err), "credential list of an unknown provider refused", err.strip())

# gateway-side state (what the gateway writes on 429 / 401), then the admin's view and fixes
sql("UPDATE credentials c JOIN providers p ON p.id = c.provider_id SET c.last_error = '429 rate limited', "
    "c.cooldown_until = UTC_TIMESTAMP(3) + INTERVAL 10 MINUTE WHERE p.name = 'rt-openai' AND c.label = 'key-2'")
rc, out, err = hubctl("credential", "disable", "rt-openai", "backup", check_rc=False)
check(rc == 0 and creds("rt-openai")["backup"][1] == "disabled", "credential disable", err.strip())
sql("UPDATE credentials c JOIN providers p ON p.id = c.provider_id SET c.last_error = '401 invalid api key' "
    "WHERE p.name = 'rt-openai' AND c.label = 'backup'")
rc, out, err = hubctl("provider", "list")
row = next((l for l in out.splitlines() if l.startswith("rt-openai ")), "")
head = out.splitlines()[0] if out else ""
check(rc == 0 and "PRESET" in head and "PROBLEMS" in head, "provider list has PRESET and PROBLEMS", head)
check(" 2/3 " in row, "provider list: active/total credentials", row)
check("backup disabled: 401 invalid api key" in row and "key-2 cooldown until" in row,
      "provider list: problems name the disabled credential's error and the cooldown", row)
ds_row = next((l for l in out.splitlines() if l.startswith("rt-ds ")), "")
check("deepseek" in ds_row, "provider list shows the preset", ds_row)
rc, out, err = hubctl("credential", "enable", "rt-openai", "key-2", check_rc=False)
k2 = creds("rt-openai")["key-2"]
check(rc == 0 and k2[1:4] == ("active", None, None), "credential enable clears last_error and cooldown", str(k2))
rc, out, err = hubctl("credential", "enable", "rt-openai", "backup", check_rc=False)
check(rc == 0 and creds("rt-openai")["backup"][1:3] == ("active", None), "disabled credential enabled again")
rc, out, err = hubctl("credential", "remove", "rt-openai", "backup", check_rc=False)
check(rc == 0 and sorted(creds("rt-openai")) == ["default", "key-2"], "credential remove deletes the row", err)
rc, out, err = hubctl("credential", "remove", "rt-openai", "backup", check_rc=False)
check(one_line_error(rc, out, err), "removing a missing credential refused", err.strip())
rc, out, err = hubctl("credential", "remove", "rt-gem", "default", check_rc=False)
check(rc == 0 and creds("rt-gem") == {} and "warning" in err, "removing the last credential: allowed, warned", err)
rc, out, _ = hubctl("provider", "list")
row = next((l for l in out.splitlines() if l.startswith("rt-gem ")), "")
check(" 0/0 " in row and "no active credential" in row, "provider list flags a provider without credentials", row)
rc, out, err = hubctl("credential", "disable", "rt-openai", check_rc=False)
check(rc == 2, "credential disable without LABEL is a usage error")

# --- models: several providers per name, priorities, fallbacks
FB = "rt-az/gpt-4o-deploy,rt-or/openai/gpt-4o"
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-openai", "--upstream-model", "gpt-4o",
                      "--priority", "0", "--fallback", FB, check_rc=False)
check(rc == 0, "model add with priority and fallbacks", err.strip())
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-az", "--upstream-model",
                      "gpt-4o-deploy", "--priority", "1", check_rc=False)
check(rc == 0, "a second provider for the same model name", err.strip())


def model_rows(name="rt-model"):
    return sql("SELECT p.name, m.upstream_model, m.kind, m.priority, COALESCE(m.fallbacks, '-') "
               "FROM models m JOIN providers p ON p.id = m.provider_id "
               f"WHERE m.name = '{name}' ORDER BY m.priority, p.name")


rows = model_rows()
check(rows == [["rt-openai", "gpt-4o", "chat", "0", FB], ["rt-az", "gpt-4o-deploy", "chat", "1", "-"]],
      "two rows in priority order, fallbacks stored in order", str(rows))
rc, out, _ = hubctl("model", "list")
lines = [l.split() for l in out.splitlines() if l.startswith("rt-model ")]
check("PRIORITY" in out.splitlines()[0] and "FALLBACKS" in out.splitlines()[0]
      and [l[1] for l in lines] == ["rt-openai", "rt-az"] and FB in lines[0] and lines[0][-1] == "yes",
      "model list shows provider, priority, fallbacks, enabled in order", out)
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-az", "--priority", "2", check_rc=False)
rows = model_rows()
check(rc == 0 and len(rows) == 2 and rows[1] == ["rt-az", "gpt-4o-deploy", "chat", "2", "-"],
      "model add with the same name and provider updates that row", str(rows))
BAD_FB = [("rt-nope/gpt-4o", "unknown provider"), ("gpt-4o", "no provider part"),
          ("rt-az/a b", "space in the model"), ("rt-az/../x", "'..' in the model"),
          ("rt-az/a,,rt-az/b", "empty entry"), ("rt-az/", "empty model"),
          ("rt-az/x,rt-az/x", "duplicate entry"), ("bad!p/x", "bad provider name")]
for fb, what in BAD_FB:
    rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-openai", "--fallback", fb,
                          check_rc=False)
    check(one_line_error(rc, out, err) and model_rows()[0][4] == FB, f"bad fallback refused: {what}",
          err.strip())
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-ds", "--kind", "embedding",
                      check_rc=False)
check(rc != 0 and len(model_rows()) == 2, "a route of another kind for the same name refused", err.strip())
for pr in ("x", "1.5", "99999999"):
    rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-ds", "--priority", pr,
                          check_rc=False)
    check(rc == 2, f"--priority '{pr}' refused")
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-ds", check_rc=False)
check(rc == 0 and model_rows()[-1][0] == "rt-ds" and model_rows()[-1][3] == "3",
      "a new route without --priority goes after the others", str(model_rows()))
rc, out, err = hubctl("model", "add", "rt-model", "--provider", "rt-openai", "--fallback", "", check_rc=False)
check(rc == 0 and model_rows()[0][4] == "-", "--fallback '' clears the fallbacks", str(model_rows()))
rc, out, err = hubctl("model", "remove", "rt-model", "--provider", "rt-ds", check_rc=False)
check(rc == 0 and [r[0] for r in model_rows()] == ["rt-openai", "rt-az"], "model remove --provider removes one row")
rc, out, err = hubctl("model", "remove", "rt-model", "--provider", "rt-ds", check_rc=False)
check(one_line_error(rc, out, err), "removing a missing route refused", err.strip())
rc, out, err = hubctl("model", "remove", "rt-model", check_rc=False)
check(rc == 0 and model_rows() == [], "model remove NAME removes every row", err.strip())

# --- key-rotate re-wraps every credential, several per provider included
before = sql("SELECT id FROM credentials ORDER BY id")
rc, out, err = hubctl("key-rotate", check_rc=False)
after = sql("SELECT id, key_id FROM credentials ORDER BY id")
new_kids = {r[1] for r in after}
check(rc == 0 and [r[0] for r in after] == [r[0] for r in before] and len(new_kids) == 1
      and f"to key id {new_kids.pop()}" in out, "key-rotate re-wraps every credential", out + err)
check(len(creds("rt-openai")) == 2 and len(creds("rt-oll")) == 2, "several credentials per provider kept")

sql("DELETE FROM providers WHERE name LIKE 'rt-%'")
done()
