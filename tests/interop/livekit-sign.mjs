// Signs a webhook body the way a LiveKit server does, with LiveKit's own library, and prints the token.
//   LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… node livekit-sign.mjs <body-file>
// The body is hashed as raw bytes, exactly as the server hashes what it sends.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AccessToken } from 'livekit-server-sdk';

const [bodyFile] = process.argv.slice(2);
const { LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = process.env;
if (!bodyFile || !apiKey || !apiSecret) {
  console.error('usage: LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… node livekit-sign.mjs <body-file>');
  process.exit(2);
}

const body = readFileSync(bodyFile);
const token = new AccessToken(apiKey, apiSecret, { ttl: '5m' });
token.sha256 = createHash('sha256').update(body).digest('base64');
console.log(await token.toJwt());
