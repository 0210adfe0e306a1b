"""Creates the test fixtures through hubctl (the way an admin would) and writes them to
$HUB_HOME/fixtures.json for the test modules: a provider "mock" pointing at the mock
provider with a canary credential, models, prices, users, teams and keys."""
import json
import os

from hubtest import HUB_HOME, MOCK_PORT, hubctl

CANARY = "sk-canary-PROVIDER-7f3a9c1e5b2d4f6a8c0e"

hubctl("provider", "add", "mock", "--type", "openai-compatible", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}/v1", "--internal", stdin=CANARY + "\n")
# a provider of its own for error injection: a 401 disables its credential, a 429 cools it
hubctl("provider", "add", "errs", "--type", "openai-compatible", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}/v1", "--internal", stdin="sk-errs-" + CANARY + "\n")
hubctl("model", "add", "gpt-4o-mini", "--provider", "mock")
hubctl("model", "add", "text-embedding-3-small", "--provider", "mock", "--kind", "embedding")
hubctl("model", "add", "dall-e-3", "--provider", "mock", "--kind", "image")
hubctl("model", "add", "chat-alias", "--provider", "mock", "--upstream-model", "gpt-4o")
hubctl("price", "set", "mock/gpt-4o-mini", "--input", "0.15", "--output", "0.60")
hubctl("price", "set", "mock/gpt-4o", "--input", "2.50", "--output", "10.00")
hubctl("price", "set", "mock/text-embedding-3-small", "--input", "0.02", "--output", "0")
hubctl("price", "set", "mock/dall-e-3", "--per-image", "0.04")
# translated providers (issue 3), on the same mock
ANT_KEY = "sk-ant-canary-4e2d9b7c1a"
GEM_KEY = "AIza-canary-gemini-5f1e3d"
hubctl("provider", "add", "anthropic", "--type", "anthropic", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}", "--internal", stdin=ANT_KEY + "\n")
hubctl("provider", "add", "google", "--type", "gemini", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}", "--internal", stdin=GEM_KEY + "\n")
hubctl("price", "set", "anthropic/claude-3-opus-20240229", "--input", "15", "--output", "75")
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
    json.dump({"keys": keys, "canary": CANARY, "anthropic_key": ANT_KEY, "gemini_key": GEM_KEY}, f)
print("ok - fixtures created through hubctl")
