// The official @anthropic-ai/sdk against the hub's /v1/messages, unchanged: plain and
// streamed messages routed to an OpenAI-type provider and to an Anthropic provider, tool use,
// errors in Anthropic's shape, and metering. TAP lines for tests/run.sh.
import Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const home = process.env.HUB_HOME;
const fx = JSON.parse(readFileSync(join(home, 'fixtures.json'), 'utf8'));
const client = new Anthropic({ apiKey: fx.keys.alice, baseURL: `http://127.0.0.1:${process.env.HUB_PORT}`, maxRetries: 0 });
let failed = 0;
const check = (cond, name, detail = '') => {
  if (cond) console.log(`ok - ${name}`);
  else { failed++; console.log(`not ok - ${name}${detail ? ' # ' + String(detail).slice(0, 300) : ''}`); }
};
const sql = (q) => execFileSync('mariadb', ['--no-defaults', '-S', join(home, 'run', 'mysqld.sock'), '-u', 'root', '-N', '-B', 'hub', '-e', q], { encoding: 'utf8' }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function row(rid) {
  for (let i = 0; i < 100; i++) {
    const r = sql(`SELECT outcome, prompt_tokens, completion_tokens, endpoint FROM usage_log WHERE request_id='${rid}' AND outcome <> 'pending'`);
    if (r) return r.split('\t');
    await sleep(100);
  }
  return null;
}
const tools = [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

try {
  for (const model of ['gpt-4o-mini', 'anthropic/claude-3-opus-20240229']) {
    const { data: msg, response } = await client.messages.create({
      model, max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: 'hi there' }],
    }).withResponse();
    check(msg.type === 'message' && msg.role === 'assistant' && msg.content[0].type === 'text' && msg.content[0].text === 'echo: hi there'
      && msg.stop_reason === 'end_turn', `messages.create via ${model}`, JSON.stringify(msg));
    check(msg.usage.input_tokens > 0 && msg.usage.output_tokens === 3, `usage via ${model}`, JSON.stringify(msg.usage));
    const r = await row(response.headers.get('x-request-id'));
    check(r && r[0] === 'ok' && Number(r[1]) === msg.usage.input_tokens && Number(r[2]) === msg.usage.output_tokens && r[3] === '/v1/messages',
      `metered via ${model}`, String(r));

    const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'stream me now' }] });
    let deltas = 0;
    stream.on('text', () => { deltas++; });
    const fin = await stream.finalMessage();
    check(fin.content[0].text === 'echo: stream me now' && deltas >= 2 && fin.stop_reason === 'end_turn' && fin.usage.output_tokens === 4,
      `messages.stream via ${model}`, JSON.stringify(fin));
  }

  for (const model of ['gpt-4o-mini', 'anthropic/claude-3-opus-20240229']) {
    const msgs = [{ role: 'user', content: 'please use tool for the weather' }];
    const m1 = await client.messages.create({ model, max_tokens: 100, tools, messages: msgs });
    const tu = m1.content.find((b) => b.type === 'tool_use');
    check(tu && tu.name === 'get_weather' && tu.input.city === 'Paris' && m1.stop_reason === 'tool_use', `tool_use via ${model}`, JSON.stringify(m1));
    if (tu) {
      msgs.push({ role: 'assistant', content: m1.content });
      msgs.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: tu.id, content: 'sunny' }] });
      const m2 = await client.messages.create({ model, max_tokens: 100, tools, messages: msgs });
      check(m2.content[0].text === 'echo: tool said sunny', `tool_result round trip via ${model}`, JSON.stringify(m2));
    }
  }

  try {
    await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    check(false, 'unknown model -> NotFoundError');
  } catch (e) {
    check(e instanceof Anthropic.NotFoundError && e.error?.type === 'error' && e.error?.error?.type === 'not_found_error', 'unknown model -> NotFoundError in Anthropic shape', String(e));
  }
  try {
    await client.messages.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    check(false, 'missing max_tokens -> BadRequestError');
  } catch (e) {
    check(e instanceof Anthropic.BadRequestError && e.error?.error?.type === 'invalid_request_error', 'missing max_tokens -> BadRequestError', String(e));
  }
  const bad = new Anthropic({ apiKey: 'hub_nope', baseURL: client.baseURL, maxRetries: 0 });
  try {
    await bad.messages.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    check(false, 'bad key -> AuthenticationError');
  } catch (e) {
    check(e instanceof Anthropic.AuthenticationError, 'bad key -> AuthenticationError', String(e));
  }
} catch (e) {
  check(false, 'anthropic sdk run', e && e.stack || e);
}
process.exit(failed ? 1 : 0);
