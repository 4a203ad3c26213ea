// A model of password-reset traffic and what becomes of each reset, shared by the live
// traffic generator (tools/traffic.mjs) and the simulated week (test/worker/
// experiment-week.test.ts). Pure and seeded: no I/O, no clock, no Node APIs, so it runs
// in Node and inside workerd and the same seed always plays the same week.
//
// Who resets: account owners at home on their usual device (the low tier), owners on a
// new device abroad or behind a cloud proxy (new device, new country or a hosting
// network: the medium tier, where the default experiment runs), and account-takeover
// attempts from other countries. What follows a reset: sends, resends, verification,
// completion or abandonment, and, for takeovers that got through, a fraud report by the
// owner hours later. Rates per channel are illustrative (industry write-ups put SMS OTP
// completion above email's, at a far higher price); change them to test other stories.

/** Residential networks by country: /16 prefixes the bundled geo database places there. */
export const HOME_NETWORKS = {
  US: ["73.15", "73.40", "24.5"],
  GB: ["86.130", "86.140"],
  DE: ["80.128", "80.140"],
  FR: ["90.10", "90.20"],
  CA: ["99.230", "99.240"],
  AU: ["1.128", "1.140"],
  JP: ["126.0", "126.10"],
  ES: ["85.48", "85.50"],
  IT: ["79.12", "79.20"],
  BR: ["187.10", "189.40"],
  IN: ["117.200"],
  NL: ["77.160", "84.24"],
  BE: ["81.240", "84.192"],
};

/** Cloud networks (rules/lists/hosting.txt) by country, for users behind a cloud proxy or VPN. */
export const CLOUD_NETWORKS = {
  US: ["104.131", "3.80"],
  GB: ["18.130", "35.176"],
  DE: ["88.198", "5.9"],
  FR: ["35.180", "13.36"],
  AU: ["13.54"],
};

/** Where account owners live (shares of the population). */
export const HOME_SHARES = { US: 0.4, GB: 0.15, DE: 0.1, FR: 0.08, CA: 0.06, AU: 0.05, JP: 0.04, ES: 0.04, IT: 0.04, BR: 0.02, IN: 0.02 };

/**
 * What a real user does with each channel: completion probability (per country where it
 * differs: SMS delivery is weaker in some markets) and resend probability.
 */
export const CHANNEL_BEHAVIOUR = {
  email_link: { complete: 0.7, resend: 0.15 },
  email_otp: { complete: 0.66, resend: 0.2 },
  sms_otp: { complete: 0.82, resend: 0.1, byCountry: { JP: 0.74, IN: 0.7 } },
  voice_otp: { complete: 0.7, resend: 0.12 },
  totp: { complete: 0.85, resend: 0 },
  push: { complete: 0.88, resend: 0 },
};

/** How often a takeover attempt controls the channel (a compromised mailbox, a SIM swap). */
export const ATTACKER_CONTROL = { email_link: 0.35, email_otp: 0.35, sms_otp: 0.03, voice_otp: 0.03, totp: 0, push: 0 };
/** Share of successful takeovers the owner reports as fraud. */
export const FRAUD_REPORTED = 0.7;

const BROWSERS = [
  (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.${v}.0 Safari/537.36`,
  (v) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 14_${v % 7}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${v % 5} Safari/605.1.15`,
  (v) => `Mozilla/5.0 (X11; Linux x86_64; rv:13${v % 3}.0) Gecko/20100101 Firefox/13${v % 3}.0`,
  (v) => `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${v % 6} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${v % 6} Mobile/15E148 Safari/604.1`,
];
const LANGUAGES = { US: "en-US,en;q=0.9", GB: "en-GB,en;q=0.9", DE: "de-DE,de;q=0.9,en;q=0.6", FR: "fr-FR,fr;q=0.9", CA: "en-CA,en;q=0.9,fr-CA;q=0.7", AU: "en-AU,en;q=0.9", JP: "ja-JP,ja;q=0.9", ES: "es-ES,es;q=0.9", IT: "it-IT,it;q=0.9", BR: "pt-BR,pt;q=0.9", IN: "en-IN,en;q=0.9,hi;q=0.7", NL: "nl-NL,nl;q=0.9,en;q=0.8", BE: "nl-BE,nl;q=0.9,fr;q=0.8" };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A seeded PRNG (mulberry32): the same seed gives the same traffic. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(random, shares) {
  const entries = Object.entries(shares);
  let x = random() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [key, w] of entries) {
    x -= w;
    if (x < 0) return key;
  }
  return entries[entries.length - 1][0];
}

const oneOf = (random, list) => list[Math.floor(random() * list.length)];
const octet = (random) => 1 + Math.floor(random() * 253);

/** An address in one of `networks[country]`. */
export function addressIn(random, networks, country) {
  return `${oneOf(random, networks[country])}.${octet(random)}.${octet(random)}`;
}

/** A browser: user agent and accept-language for a country. */
export function browser(random, country) {
  const build = 1 + Math.floor(random() * 5000);
  const userAgent = oneOf(random, BROWSERS)(build);
  return { userAgent, acceptLanguage: LANGUAGES[country] ?? "en;q=0.8", hints: clientHints(userAgent) };
}

/** The low-entropy client hints Chromium sends with every secure request (none for Safari or Firefox). */
function clientHints(userAgent) {
  const chrome = /Chrome\/(\d+)/.exec(userAgent);
  if (chrome === null) return {};
  const v = chrome[1];
  return {
    "sec-ch-ua": `"Chromium";v="${v}", "Google Chrome";v="${v}", "Not?A_Brand";v="99"`,
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": userAgent.includes("Windows") ? '"Windows"' : userAgent.includes("Mac OS") ? '"macOS"' : '"Linux"',
  };
}

/** Account owners: email, home country, home address and home browser. */
export function population({ seed, users, domain = "example.com", shares = HOME_SHARES }) {
  const random = rng(seed);
  return Array.from({ length: users }, (_, i) => {
    const home = pick(random, shares);
    return { email: `user${i}.${seed}@${domain}`, home, homeIp: addressIn(random, HOME_NETWORKS, home), device: browser(random, home) };
  });
}

function awayCountry(random, home, networks) {
  const options = Object.keys(networks).filter((c) => c !== home && c in HOME_SHARES);
  return oneOf(random, options);
}

/**
 * One request of the plan: who, from where, on which device. `kind` is `home` (usual
 * device and network), `travel` (new device abroad), `proxy` (new device behind a cloud
 * network at home or abroad) or `attack` (a takeover attempt against the account).
 */
function request(random, user, kind, nearby) {
  if (kind === "home") return { kind, user, ip: user.homeIp, device: user.device, country: user.home, newDevice: false };
  if (kind === "proxy") {
    const country = user.home in CLOUD_NETWORKS ? user.home : awayCountry(random, user.home, CLOUD_NETWORKS);
    return { kind, user, ip: addressIn(random, CLOUD_NETWORKS, country), device: browser(random, country), country, newDevice: true };
  }
  // `nearby` (home → countries within reach): travel that is possible in real time.
  const close = kind === "travel" ? nearby?.[user.home] : undefined;
  const country = close === undefined ? awayCountry(random, user.home, HOME_NETWORKS) : oneOf(random, close);
  return { kind, user, ip: addressIn(random, HOME_NETWORKS, country), device: browser(random, country), country, newDevice: true };
}

/** The hour-of-day weight of reset traffic (UTC; a broad daytime peak). */
function hourWeight(hour) {
  return 0.35 + Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
}

/**
 * A plan of resets over `days` from `start` (ms), sorted by time. Each owner resets
 * `perUser` times on average; `mix` gives the share of each kind (attacks target random
 * owners). Travel resets come at least two days after the owner's warm-up, so they
 * never look like impossible travel.
 */
export function plan({ seed, users, start, days = 7, perUser = 1.5, mix = { home: 0.55, travel: 0.25, proxy: 0.17, attack: 0.03 }, nearby = null }) {
  const random = rng(seed ^ 0x9e3779b9);
  const total = Math.round(users.length * perUser);
  const out = [];
  for (let i = 0; i < total; i++) {
    let day = Math.floor(random() * days);
    let hour = Math.floor(random() * 24);
    while (random() * 1.35 > hourWeight(hour)) hour = Math.floor(random() * 24);
    const kind = pick(random, mix);
    if (kind === "travel" && day < 2) day = 2 + Math.floor(random() * Math.max(1, days - 2));
    const at = start + day * DAY + hour * HOUR + Math.floor(random() * HOUR);
    out.push({ at, ...request(random, oneOf(random, users), kind, nearby) });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * What the origin reports after forwarding a reset with `channel`: events with delays
 * (ms after the decision) and optional report fields. Takeover attempts complete only
 * when they control the channel; the owner reports those as fraud hours later.
 */
export function outcomes(random, { channel, country, attacker }) {
  const b = CHANNEL_BEHAVIOUR[channel] ?? { complete: 0.6, resend: 0.1 };
  const events = [{ event: "sent", after: 5_000 }];
  if (random() < b.resend) events.push({ event: "sent", after: 3 * MINUTE });
  const succeeds = attacker ? random() < (ATTACKER_CONTROL[channel] ?? 0) : random() < (b.byCountry?.[country] ?? b.complete);
  if (!succeeds) return [...events, { event: "abandoned", after: 30 * MINUTE }];
  const done = 4 * MINUTE + Math.floor(random() * 10 * MINUTE);
  events.push({ event: "verified", after: done }, { event: "completed", after: done + MINUTE });
  if (attacker && random() < FRAUD_REPORTED) events.push({ event: "fraud_reported", after: 6 * HOUR + Math.floor(random() * 30 * HOUR) });
  return events;
}
