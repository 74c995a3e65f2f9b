// Drives ck-serve with the official `openai` npm client (installed by `make deps` under $CK_DEPS_DIR/node):
// one non-streaming and one streaming chat completion, the image as a data: URI, greedy. Prints one JSON line
// {"text": ..., "stream_text": ..., "finish_reason": ..., "stream_finish_reason": ..., "usage": ..., "chunks": N}.
//   NODE_PATH=$CK_DEPS_DIR/node/node_modules node openai_client.js BASE_URL IMAGE.png PROMPT MAX_TOKENS
'use strict';
const fs = require('fs');
const { OpenAI } = require('openai');

async function main() {
  const [baseURL, image, prompt, maxTokens] = process.argv.slice(2);
  const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60000 });
  const url = 'data:image/png;base64,' + fs.readFileSync(image).toString('base64');
  const request = {
    model: 'tiny',
    temperature: 0,
    max_tokens: Number(maxTokens),
    messages: [{ role: 'user', content: [{ type: 'text', text: prompt }, { type: 'image_url', image_url: { url } }] }],
  };
  const r = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let streamText = '', streamFinish = null, chunks = 0, streamUsage = null;
  for await (const chunk of stream) {
    ++chunks;
    if (chunk.usage) streamUsage = chunk.usage;
    if (!chunk.choices.length) continue;
    streamText += chunk.choices[0].delta.content ?? '';
    if (chunk.choices[0].finish_reason) streamFinish = chunk.choices[0].finish_reason;
  }
  const models = await client.models.list();
  process.stdout.write(JSON.stringify({
    text: r.choices[0].message.content, finish_reason: r.choices[0].finish_reason, usage: r.usage,
    stream_text: streamText, stream_finish_reason: streamFinish, stream_usage: streamUsage, chunks,
    model_ids: models.data.map((m) => m.id),
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`openai_client: ${e.stack || e}\n`);
  process.exit(1);
});
