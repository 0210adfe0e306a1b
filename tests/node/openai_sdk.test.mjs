// The official `openai` npm SDK against the hub, unchanged: chat, streaming chat, embeddings,
// images and models.list return correct objects, and each call is metered.
// Prints TAP-style lines for tests/run.sh. Env: HUB_PORT, HUB_HOME, MOCK_PORT.
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const home = process.env.HUB_HOME;
const fx = JSON.parse(readFileSync(join(home, 'fixtures.json'), 'utf8'));
const client = new OpenAI({ apiKey: fx.keys.alice, baseURL: `http://127.0.0.1:${process.env.HUB_PORT}/v1`, maxRetries: 0 });
let failed = 0;
const check = (cond, name, detail = '') => {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${detail ? ' # ' + detail : ''}`); }
};
const sql = (q) => execFileSync('mariadb', ['--no-defaults', '-S', join(home, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q], { encoding: 'utf8' }).trim();
const mockSeen = async () => (await (await fetch(`http://127.0.0.1:${process.env.MOCK_PORT}/__mock/requests`)).json());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function row(rid) {
  for (let i = 0; i < 100; i++) {
    const r = sql(`SELECT outcome, prompt_tokens, completion_tokens, images, cost_micro FROM usage_log WHERE request_id='${rid}' AND outcome <> 'pending'`);
    if (r) return r.split('\t');
    await sleep(100);
  }
  return null;
}

try {
  await fetch(`http://127.0.0.1:${process.env.MOCK_PORT}/__mock/reset`, { method: 'POST' });
  const { data: chat, response } = await client.chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from the sdk' }],
  }).withResponse();
  check(chat.object === 'chat.completion' && chat.choices[0].message.content === 'echo: hello from the sdk', 'sdk chat completion', JSON.stringify(chat));
  check(chat.usage && chat.usage.total_tokens === chat.usage.prompt_tokens + chat.usage.completion_tokens, 'sdk chat usage object');
  const r1 = await row(response.headers.get('x-request-id'));
  check(r1 && r1[0] === 'ok' && Number(r1[1]) === chat.usage.prompt_tokens && Number(r1[2]) === chat.usage.completion_tokens && r1[4] !== 'NULL', 'sdk chat metered with cost', String(r1));

  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream me please' }],
  });
  let text = ''; let chunks = 0; let sawUsage = false;
  for await (const ch of stream) {
    chunks++;
    if (ch.usage) sawUsage = true;
    text += ch.choices[0]?.delta?.content ?? '';
  }
  check(text === 'echo: stream me please' && chunks >= 4, 'sdk streaming chat', `${chunks} chunks: ${text}`);
  check(!sawUsage, 'sdk stream has no usage chunk it did not ask for');

  const s2 = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count me' }],
  });
  let usage = null;
  for await (const ch of s2) if (ch.usage) usage = ch.usage;
  check(usage && usage.completion_tokens === 3, 'sdk stream usage when asked', JSON.stringify(usage));

  const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one two', 'three'] });
  check(emb.object === 'list' && emb.data.length === 2 && emb.data[0].embedding.length === 8 && emb.usage.prompt_tokens === 3, 'sdk embeddings', JSON.stringify(emb.usage));

  const img = await client.images.generate({ model: 'dall-e-3', prompt: 'a red square', n: 1, response_format: 'b64_json' });
  check(img.data.length === 1 && typeof img.data[0].b64_json === 'string' && img.data[0].b64_json.length > 20, 'sdk images.generate');

  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  check(models.includes('gpt-4o-mini') && models.includes('dall-e-3'), 'sdk models.list', models.join(','));

  const seen = await mockSeen();
  const leaked = seen.some((r) => JSON.stringify(r).includes(fx.keys.alice));
  check(seen.length >= 5 && !leaked && seen.every((r) => r.headers.authorization === `Bearer ${fx.canary}`), 'upstream saw the provider key, never the hub key');

  // the same SDK, unchanged, on translated providers: same text and usage as the mock produced
  for (const model of ['anthropic/claude-3-opus-20240229', 'google/gemini-1.5-pro']) {
    await fetch(`http://127.0.0.1:${process.env.MOCK_PORT}/__mock/reset`, { method: 'POST' });
    const r1 = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'translate me please' }] });
    const up = (await mockSeen()).at(-1);
    const ru = up?.reply_usage ?? {};
    const pin = ru.input_tokens ?? ru.promptTokenCount, pout = ru.output_tokens ?? ru.candidatesTokenCount;
    check(r1.choices[0].message.content === 'echo: translate me please' && r1.usage.prompt_tokens === pin && r1.usage.completion_tokens === pout,
      `sdk chat via ${model}`, JSON.stringify(r1.usage) + JSON.stringify(ru));
    const st = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream translate' }] });
    let t = ''; let u = null;
    for await (const ch of st) { t += ch.choices[0]?.delta?.content ?? ''; if (ch.usage) u = ch.usage; }
    check(t.replace(/ /g, '') === 'echo:streamtranslate' && u && u.completion_tokens > 0, `sdk stream via ${model}`, `${t} ${JSON.stringify(u)}`);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const msgs = [{ role: 'user', content: 'please use tool now' }];
    const t1 = await client.chat.completions.create({ model, tools, messages: msgs });
    const call = t1.choices[0].message.tool_calls?.[0];
    check(call && call.function.name === 'get_weather' && JSON.parse(call.function.arguments).city === 'Paris', `sdk tool call via ${model}`, JSON.stringify(t1.choices[0]));
    if (call) {
      msgs.push(t1.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'rainy' });
      const t2 = await client.chat.completions.create({ model, tools, messages: msgs });
      check(t2.choices[0].message.content === 'echo: tool said rainy', `sdk tool round trip via ${model}`, JSON.stringify(t2.choices[0]));
    }
  }

  try {
    await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
    check(false, 'sdk unknown model raises NotFoundError');
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found', 'sdk unknown model raises NotFoundError', String(e));
  }
  const bad = new OpenAI({ apiKey: 'hub_bogus', baseURL: client.baseURL, maxRetries: 0 });
  try {
    await bad.models.list();
    check(false, 'sdk bad key raises AuthenticationError');
  } catch (e) {
    check(e instanceof OpenAI.AuthenticationError, 'sdk bad key raises AuthenticationError', String(e));
  }
} catch (e) {
  check(false, 'sdk test run', String(e && e.stack || e));
}
process.exit(failed ? 1 : 0);
