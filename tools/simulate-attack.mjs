// A small, scripted attack through a running gateway (npm start), to watch the
// dashboard react: a few ordinary users, then one host enumerating accounts, first as
// a scripted browser, then with an HTTP library. Prints what the clients saw; the
// dashboard shows what riskgate decided and why.
//
//   node tools/simulate-attack.mjs [--gateway http://127.0.0.1:$PORT] [--accounts 40]
const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

/**
 * Play the attack against `gateway`; resolves to counts of `<phase> <status>`.
 * @param {{ gateway: string, accounts?: number }} options
 * @returns {Promise<Map<string, number>>}
 */
export async function simulateAttack({ gateway, accounts = 40 }) {
  const reset = async (email, userAgent, ip) => {
    const res = await fetch(`${gateway}/password/reset`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": userAgent, "cf-connecting-ip": ip },
      body: JSON.stringify({ email, password: "never-logged-Secret-1" }),
    });
    await res.body?.cancel();
    return res.status;
  };
  // Locally (wrangler dev) the client IP header is taken as sent, so users can come from
  // many addresses and the attacker from one; on Cloudflare the platform sets it.
  const octet = () => 1 + Math.floor(Math.random() * 250);
  const attackerIp = `203.0.113.${octet()}`;
  const seen = new Map();
  const count = (key) => seen.set(key, (seen.get(key) ?? 0) + 1);
  for (let i = 0; i < 5; i++) {
    count(`users ${await reset(`user${i}@example.com`, `${BROWSER} u/${i}`, `198.51.100.${octet()}`)}`);
  }
  const bounded = Math.min(accounts, 1000);
  for (let i = 0; i < bounded; i++) {
    const browserPhase = i < bounded / 2;
    const status = await reset(`victim${i}@example.com`, browserPhase ? BROWSER : "python-requests/2.32.3", attackerIp);
    count(`${browserPhase ? "browser-bot" : "http-bot"} ${status}`);
  }
  return seen;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  // Default: npm start's gateway (RISKGATE_URL, else 127.0.0.1 on PORT or 8787).
  const gateway = arg("gateway", process.env.RISKGATE_URL || `http://127.0.0.1:${process.env.PORT || "8787"}`).replace(/\/+$/, "");
  const seen = await simulateAttack({ gateway, accounts: Number(arg("accounts", "40")) });
  console.log("what the clients saw (202 = uniform answer, 403 = challenge):");
  for (const [key, n] of seen) console.log(`  ${key.padEnd(16)} x${n}`);
  console.log(`\nopen ${gateway}/__riskgate/ to see the decisions, reasons and audit events`);
}
