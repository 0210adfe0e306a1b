// The AIGNE framework's own clients, @aigne/aigne-hub's AIGNEHubChatModel and
// AIGNEHubImageModel, against the hub,
// unchanged: it discovers the hub's mount point (/__blocklet__.js), then calls /api/v2/chat
// with the framework's {input, options} body. Plain and streamed answers through an
// OpenAI-type and an Anthropic provider, a tool-call round trip, errors as thrown by the
// client, and metering under /api/v2/chat. TAP lines for tests/run.sh.
import { AIGNEHubChatModel, AIGNEHubImageModel } from '@aigne/aigne-hub';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const home = process.env.HUB_HOME;
const base = `http://127.0.0.1:${process.env.HUB_PORT}`;
const fx = JSON.parse(readFileSync(join(home, 'fixtures.json'), 'utf8'));
let failed = 0;
const check = (cond, name, detail = '') => {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`not ok - ${name}${detail ? ` # ${String(detail).replace(/\s+/g, ' ').slice(0, 300)}` : ''}`);
  }
};
const sql = (q) => execFileSync('mariadb', ['--no-defaults', '-S', join(home, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q],
  { encoding: 'utf8' }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}];
const chatModel = (model, apiKey = fx.keys.alice) => new AIGNEHubChatModel({ baseURL: base, apiKey, model });
const ledger = () => sql("SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM usage_log " +
  "WHERE endpoint = '/api/v2/chat' AND outcome = 'ok'").split('\t').map(Number);

async function collect(stream) {
  let text = '';
  let pieces = 0;
  let json = {};
  for await (const chunk of stream) {
    if (chunk.delta?.text?.text) {
      text += chunk.delta.text.text;
      pieces++;
    }
    if (chunk.delta?.json) json = chunk.delta.json;
  }
  return { text, pieces, json };
}

try {
  const r0 = await fetch(`${base}/__blocklet__.js?type=json`);
  const b0 = await r0.json();
  check(r0.status === 200 && b0.componentMountPoints?.[0]?.did === 'z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ',
    'GET /__blocklet__.js?type=json names the AIGNE Hub component and its mount point (no key needed)', JSON.stringify(b0));
  const before = ledger();
  let calls = 0;
  let tokens = [0, 0];
  // a name with a provider prefix means that provider's own API to the framework: through a
  // hub it is written aignehub/<name>
  for (const model of ['gpt-4o-mini', 'aignehub/anthropic/claude-3-opus-20240229']) {
    const m = chatModel(model);
    const out = await m.invoke({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi there' }] });
    check(out.text === 'echo: hi there' && out.usage?.inputTokens > 0 && out.usage?.outputTokens === 3,
      `AIGNEHubChatModel.invoke via ${model}: text and usage`, JSON.stringify(out));
    calls++;
    tokens = [tokens[0] + (out.usage?.inputTokens ?? 0), tokens[1] + (out.usage?.outputTokens ?? 0)];

    const st = await collect(await m.invoke({ messages: [{ role: 'user', content: 'stream me now' }] }, { streaming: true }));
    check(st.text === 'echo: stream me now' && st.pieces >= 2 && st.json.usage?.outputTokens === 4 && typeof st.json.model === 'string',
      `AIGNEHubChatModel.invoke streaming via ${model}: text pieces, model and usage`, JSON.stringify(st));
    calls++;
    tokens = [tokens[0] + (st.json.usage?.inputTokens ?? 0), tokens[1] + (st.json.usage?.outputTokens ?? 0)];

    const msgs = [{ role: 'user', content: 'please use tool for the weather' }];
    const t1 = await m.invoke({ messages: msgs, tools, toolChoice: 'auto' });
    const tc = t1.toolCalls?.[0];
    check(tc && tc.function.name === 'get_weather' && tc.function.arguments?.city === 'Paris',
      `a tool call via ${model} comes back with object arguments`, JSON.stringify(t1));
    calls++;
    tokens = [tokens[0] + (t1.usage?.inputTokens ?? 0), tokens[1] + (t1.usage?.outputTokens ?? 0)];
    if (tc) {
      msgs.push({ role: 'agent', toolCalls: t1.toolCalls });
      msgs.push({ role: 'tool', toolCallId: tc.id, content: 'sunny' });
      const t2 = await m.invoke({ messages: msgs, tools });
      check(t2.text === 'echo: tool said sunny', `the tool result round trip via ${model}`, JSON.stringify(t2));
      calls++;
      tokens = [tokens[0] + (t2.usage?.inputTokens ?? 0), tokens[1] + (t2.usage?.outputTokens ?? 0)];
    }
  }
  let after = ledger();
  for (let i = 0; i < 50 && after[0] < before[0] + calls; i++) {
    await sleep(100);
    after = ledger();
  }
  check(after[0] - before[0] === calls && after[1] - before[1] === tokens[0] && after[2] - before[2] === tokens[1],
    `every call is metered under /api/v2/chat with the tokens the client saw (${calls} calls)`,
    `${after.map((v, i) => v - before[i])} vs ${calls} ${tokens}`);

  // images: AIGNEHubImageModel → /api/v2/image; the client stores what it gets as local files
  const im = new AIGNEHubImageModel({ baseURL: base, apiKey: fx.keys.alice, model: 'dall-e-3' });
  const imgBefore = sql("SELECT COUNT(*), COALESCE(SUM(images), 0), COALESCE(SUM(cost_micro), 0) FROM usage_log " +
    "WHERE endpoint = '/api/v2/image' AND outcome = 'ok'").split('\t').map(Number);
  for (const [label, opts] of [['as a url', {}], ['as base64', { responseFormat: 'b64_json' }]]) {
    const out = await im.invoke({ prompt: 'a red square', n: 1, modelOptions: opts });
    const f = out.images?.[0];
    const png = f?.path && existsSync(f.path) ? readFileSync(f.path).subarray(1, 4).toString() : '';
    check(out.images?.length === 1 && f.mimeType === 'image/png' && png === 'PNG' && out.model === 'dall-e-3',
      `AIGNEHubImageModel.invoke (${label}): one PNG image the client could save`, JSON.stringify(out));
  }
  let imgAfter = imgBefore;
  for (let i = 0; i < 50 && imgAfter[0] < imgBefore[0] + 2; i++) {
    await sleep(100);
    imgAfter = sql("SELECT COUNT(*), COALESCE(SUM(images), 0), COALESCE(SUM(cost_micro), 0) FROM usage_log " +
      "WHERE endpoint = '/api/v2/image' AND outcome = 'ok'").split('\t').map(Number);
  }
  check(imgAfter[0] - imgBefore[0] === 2 && imgAfter[1] - imgBefore[1] === 2 && imgAfter[2] - imgBefore[2] === 80000,
    'image calls are metered under /api/v2/image: 2 images at $0.04', `${imgAfter.map((v, i) => v - imgBefore[i])}`);
  try {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await im.invoke({ prompt: 'edit this', image: [{ type: 'file', data: png, mimeType: 'image/png' }] });
    check(false, 'image editing: the client throws');
  } catch (e) {
    check(/Editing images is not supported/.test(String(e.message)), 'image editing: refused with a clear message', String(e));
  }

  for (const [name, m, re] of [
    ['an unknown model', chatModel('no-such-model'), /model/i],
    ['a revoked or wrong key', chatModel('gpt-4o-mini', 'hub_nope'), /key|auth/i],
  ]) {
    try {
      await m.invoke({ messages: [{ role: 'user', content: 'x' }] });
      check(false, `${name}: the client throws`);
    } catch (e) {
      check(re.test(String(e.message)) && !String(e.message).includes('hub_nope'), `${name}: the client throws the hub's message`, String(e));
    }
  }
} catch (e) {
  check(false, 'the AIGNE client tests run to the end', e.stack || String(e));
}
process.exit(failed ? 1 : 0);
