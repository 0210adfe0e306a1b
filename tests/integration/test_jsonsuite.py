"""Every n_* file of JSONTestSuite sent as a request body gets 400 (never a 5xx), and every
y_* file wrapped as a field value passes the parser (it then fails schema checks or routes)."""
import json
import os

from hubtest import HUB_HOME, check, done, request

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
SUITE = os.environ.get("JSON_SUITE", os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                   "shared", "data", "JSONTestSuite", "test_parsing"))

files = sorted(os.listdir(SUITE)) if os.path.isdir(SUITE) else []
check(len(files) > 0, "JSONTestSuite corpus present", SUITE)
n_files = [f for f in files if f.startswith("n_")]
bad, fivexx = [], []
for name in n_files:
    with open(os.path.join(SUITE, name), "rb") as f:
        body = f.read()
    s, _, data = request("POST", "/v1/chat/completions", body, key=KEY)
    if s >= 500:
        fivexx.append(name)
    elif s != 400:
        bad.append(f"{name}:{s}")
print(f"# n_* bodies tried: {len(n_files)}, non-400: {len(bad)}, 5xx: {len(fivexx)}")
check(len(n_files) >= 180 and not bad and not fivexx, f"all {len(n_files)} n_* bodies -> 400",
      " ".join((bad + fivexx)[:10]))

y_files = [f for f in files if f.startswith("y_")]
policy = {"y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json",
          "y_object_escaped_null_in_key.json", "y_string_null_escape.json"}
parse_refused, fivexx = [], []
for name in y_files:
    with open(os.path.join(SUITE, name), "rb") as f:
        content = f.read()
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"x_test":' + content + b'}'
    s, _, data = request("POST", "/v1/chat/completions", body, key=KEY)
    if s >= 500:
        fivexx.append(name)
    elif s == 400 and b"invalid JSON" in data and name not in policy:
        parse_refused.append(name)
check(not parse_refused and not fivexx, f"all {len(y_files)} y_* values accepted by the parser",
      " ".join((parse_refused + fivexx)[:10]))
done()
