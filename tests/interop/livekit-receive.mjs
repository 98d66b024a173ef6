// Verifies a signed webhook with LiveKit's own WebhookReceiver and prints one JSON line:
// {"ok":true,"event":…,"id":…,"room":…} (exit 0) or {"ok":false,"error":…} (exit 1).
//   LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… node livekit-receive.mjs <body-file> <authorization>
import { readFileSync } from 'node:fs';
import { WebhookReceiver } from 'livekit-server-sdk';

const [bodyFile, authorization] = process.argv.slice(2);
const { LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = process.env;
if (!bodyFile || authorization === undefined || !apiKey || !apiSecret) {
  console.error('usage: LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… node livekit-receive.mjs <body-file> <authorization>');
  process.exit(2);
}

try {
  const event = await new WebhookReceiver(apiKey, apiSecret).receive(readFileSync(bodyFile, 'utf8'), authorization);
  console.log(JSON.stringify({ ok: true, event: event.event, id: event.id, room: event.room?.name ?? null }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
  process.exit(1);
}
