// Signs deliveries with the npm `standardwebhooks` library, as a Standard Webhooks sender would.
// stdin:  {"secret":"whsec_…","messages":[{"id":"msg_…","timestamp":<unix seconds>,"payload":"<body>"}]}
// stdout: [{"id":"msg_…","timestamp":"<unix seconds>","signature":"v1,<base64>"}]
import { Webhook } from "standardwebhooks";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const webhook = new Webhook(input.secret);
const signed = input.messages.map((m) => ({
  id: m.id,
  timestamp: String(m.timestamp),
  signature: webhook.sign(m.id, new Date(m.timestamp * 1000), m.payload),
}));
process.stdout.write(JSON.stringify(signed));
