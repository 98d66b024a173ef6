// Verifies deliveries with the npm `standardwebhooks` library, as a Standard Webhooks receiver would
// (its own clock and its fixed 5-minute tolerance).
// stdin:  {"secret":"whsec_…","deliveries":[{"payload":"<body>","headers":{"webhook-id":…,"webhook-timestamp":…,"webhook-signature":…}}]}
// stdout: [{"ok":true} | {"ok":false,"error":"<message>"}]
import { Webhook } from "standardwebhooks";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const webhook = new Webhook(input.secret);
const results = input.deliveries.map((d) => {
  try {
    webhook.verify(d.payload, d.headers);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
