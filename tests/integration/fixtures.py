"""Creates the test fixtures through hubctl (the way an admin would) and writes them to
$HUB_HOME/fixtures.json for the test modules: a provider "mock" pointing at the mock
provider with a canary credential, models, prices, users, teams and keys."""
import json
import os

from hubtest import HUB_HOME, MOCK_PORT, hubctl

CANARY = "sk-canary-PROVIDER-7f3a9c1e5b2d4f6a8c0e"

hubctl("provider", "add", "mock", "--type", "openai-compatible", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}/v1", "--internal", stdin=CANARY + "\n")
hubctl("model", "add", "gpt-4o-mini", "--provider", "mock")
hubctl("model", "add", "text-embedding-3-small", "--provider", "mock", "--kind", "embedding")
hubctl("model", "add", "dall-e-3", "--provider", "mock", "--kind", "image")
hubctl("model", "add", "chat-alias", "--provider", "mock", "--upstream-model", "gpt-4o")
hubctl("price", "set", "mock/gpt-4o-mini", "--input", "0.15", "--output", "0.60")
hubctl("price", "set", "mock/gpt-4o", "--input", "2.50", "--output", "10.00")
hubctl("price", "set", "mock/text-embedding-3-small", "--input", "0.02", "--output", "0")
hubctl("price", "set", "mock/dall-e-3", "--per-image", "0.04")
hubctl("user", "add", "alice", "--team", "red")
hubctl("user", "add", "bob", "--team", "blue")
keys = {}
keys["alice"] = hubctl("key", "create", "--name", "alice-main", "--user", "alice", "--app",
                       "notebook")[1].strip()
keys["bob_limited"] = hubctl("key", "create", "--name", "bob-limited", "--user", "bob",
                             "--models", "gpt-4o-mini,mock/text-*")[1].strip()
keys["expired"] = hubctl("key", "create", "--name", "bob-expired", "--user", "bob",
                         "--expires-days", "0")[1].strip()
with open(os.path.join(HUB_HOME, "fixtures.json"), "w") as f:
    json.dump({"keys": keys, "canary": CANARY}, f)
print("ok - fixtures created through hubctl")
