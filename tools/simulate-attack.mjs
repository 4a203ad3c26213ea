// A small, scripted attack through a running gateway (npm start), to watch the
// dashboard react: a few ordinary users, then one client enumerating accounts with an
// HTTP library. Prints what the client saw; the dashboard shows what riskgate decided.
//
//   node tools/simulate-attack.mjs [--gateway http://127.0.0.1:8787] [--accounts 40]
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const gateway = arg("gateway", "http://127.0.0.1:8787");
const accounts = Math.min(Number(arg("accounts", "40")), 1000);
const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

async function reset(email, userAgent, extra = {}) {
  const res = await fetch(`${gateway}/password/reset`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": userAgent, ...extra },
    body: JSON.stringify({ email, password: "never-logged-Secret-1" }),
  });
  await res.body?.cancel();
  return res.status;
}

// Locally (wrangler dev) the client IP header is taken as sent, so each run can play users
// from many addresses and the attacker from one; on Cloudflare the platform sets it.
const octet = () => 1 + Math.floor(Math.random() * 250);
const attackerIp = `203.0.113.${octet()}`;
const seen = new Map();
const count = (phase, status) => seen.set(`${phase} ${status}`, (seen.get(`${phase} ${status}`) ?? 0) + 1);
for (let i = 0; i < 5; i++) {
  count("users", await reset(`user${i}@example.com`, `${BROWSER} u/${i}`, { "cf-connecting-ip": `198.51.100.${octet()}` }));
}
// A scripted browser walks a list of accounts: distinct-account rules escalate it to a
// challenge; then the same host switches to an HTTP library and gets silently denied.
for (let i = 0; i < accounts; i++) {
  const scripted = i < accounts / 2 ? BROWSER : "python-requests/2.32.3";
  const status = await reset(`victim${i}@example.com`, scripted, { "cf-connecting-ip": attackerIp });
  count(i < accounts / 2 ? "browser-bot" : "http-bot", status);
}
console.log("what the clients saw (202 = uniform answer, 403 = challenge):");
for (const [key, n] of seen) console.log(`  ${key.padEnd(16)} x${n}`);
console.log(`\nopen ${gateway}/__riskgate/ to see the decisions, reasons and audit events`);
