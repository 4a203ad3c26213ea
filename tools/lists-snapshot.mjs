// Regenerate the shipped reputation snapshot in rules/lists/ from the public source files
// in tools/lists-snapshot/sources/ (see its manifest.json), offline and reproducibly:
//
//   node tools/lists-snapshot.mjs [--as-of 2026-12-02] [--from tools/lists-snapshot/sources]
//                                 [--dir rules/lists] [--check]
//
// Every ASN is checked against the AS names in the bundled @ip-location-db/asn data: it
// is kept only when that data knows the ASN and its name matches the provider the source
// claims (or, for a source line without a name, when the bundled name itself says
// hosting), and its name does not look like an eyeball network. Writes:
//   hosting.txt, vpn.txt  the `# BEGIN snapshot` block (`riskgate lists update` leaves it alone)
//   tor-exits.txt         the generated block (`riskgate lists update` replaces it)
// Expiry per entry: max(source date + ttl, as-of + minimum), so a snapshot cut from
// older data is still useful for a while and then ages out (the build drops expired
// entries). `--check` reports without writing (exit 1 when the files would change).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { register } from "tsx/esm/api";

register();
// The list syntax helpers of the CLI (paths as of this commit).
const { parseRange } = await import("../src/shared/ip-key.ts");
const { rangeText, replaceBlock } = await import("../src/cli/lists-update.ts");
const { parseListText } = await import("../src/scoring/signals/list-format.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const FROM = arg("from", "tools/lists-snapshot/sources");
const DIR = arg("dir", "rules/lists");
const AS_OF = arg("as-of", new Date().toISOString().slice(0, 10));
const CHECK = process.argv.includes("--check");
const DAY = 86_400_000;
const manifest = JSON.parse(readFileSync(join(FROM, "manifest.json"), "utf8")).sources;

/** Expiry policy: days after the source's own date, and at least days after --as-of. */
const TTL = {
  asn: { ttl: 365, min: 365 }, // AS ownership and business change slowly
  vpnIp: { ttl: 120, min: 90 }, // provider server addresses churn over months
  tor: { ttl: 30, min: 60 }, // exits churn; ~73% of a March 2026 list were still exits in August
};
const expiry = (source, kind) => {
  const { ttl, min } = TTL[kind];
  const at = Math.max(Date.parse(`${manifest[source].date}T00:00:00Z`) + ttl * DAY, Date.parse(`${AS_OF}T00:00:00Z`) + min * DAY);
  return new Date(at).toISOString().slice(0, 10);
};

// --- Policy: networks never listed, whatever a source says, and why ---
const EXCLUDE = new Map([
  [13335, "Cloudflare: WARP and iCloud Private Relay carry consumer traffic"],
  [15169, "Google: consumer services, Google Fi"],
  [36040, "Google (YouTube)"],
  [19527, "Google"],
  [36183, "Akamai: iCloud Private Relay egress"],
  [20940, "Akamai CDN: consumer-facing, Private Relay"],
  [16625, "Akamai CDN"],
  [54113, "Fastly: iCloud Private Relay egress"],
  [714, "Apple"],
  [6185, "Apple"],
  [6939, "Hurricane Electric: transit and tunnel broker"],
  [4323, "tw telecom: transit"],
  [3561, "Lumen (Savvis legacy): transit"],
  [7850, "iHighway / CityLink Fiber: eyeball ISP"],
  [60729, "Tor exit operator: covered by tor-exits.txt"],
  [398391, "Check Point corporate SASE egress: employees, not anonymisers"],
  // bad-asn-list carries Nigerian access and backbone networks (fraud-heavy, not hosting)
  ...[30998, 36920, 37018, 37088, 37209, 37230, 37347, 37377, 37521, 37540, 37714, 328035].map((a) => [a, "Nigerian access or backbone network, not hosting"]),
  [52468, "UFINET: wholesale carrier"],
  [197226, "Sprint S.A. (PL): telecom integrator and access provider"],
  [58073, "YISP: access provider"],
  [29331, "Forsikringens Datacenter: corporate IT of insurers (employees)"],
  [51241, "Iran Post: corporate network"],
  [3320, "Deutsche Telekom: residential"],
  [17676, "SoftBank: residential"],
]);
/** Bundled names of providers that trade under another name, checked by hand. */
const CONFIRMED = new Set([
  "PacketHub S.A.", // NordVPN's network (X4BNet labels AS207137 "Packethub (NordVPN)")
  "Cyberzone S.A.", // Surfshark's network company
]);
/** Names that suggest an eyeball, academic or public network: such ASNs are dropped. */
const EYEBALL = /\b(telecom|telekom|telecommunications?|mobile|mobil|broadband|cable|wireless|isp|fiber|fibre|dsl|university|universit|college|school|academ|bank|government|ministry|municipal|cellular|lte)\b/i;
/** Names that say hosting by themselves (for source lines that name no provider). */
const HOSTING_NAME = /(host|server|cloud|data ?cent|datacenter|vps|colo|dedicated|compute|hetzner|ovh|leaseweb|linode|vultr|digitalocean)/i;
/** Provider-claim words too generic to prove a match. */
const STOP = new Set(
  (
  "llc inc ltd limited gmbh corp corporation company co sa sas sarl srl bv ag as asn ab oy spa sro kft pty plc ltda eood ooo jsc lp llp " +
    "network networks net internet services service solutions group holding holdings international technologies technology tech systems " +
    "the of and for de du la le el des communications hosting host cloud data datacenter center centre server servers global online " +
    "web digital it telecom management inc. trading private public ventures enterprises company's ip infrastructure"
  ).split(" "),
);

// --- The bundled AS names ---
function csvFields(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = "";
      i++;
      for (; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') {
          v += '"';
          i++;
        } else if (line[i] === '"') break;
        else v += line[i];
      }
      out.push(v);
      i += 2;
    } else {
      const j = line.indexOf(",", i);
      out.push(line.slice(i, j < 0 ? line.length : j));
      if (j < 0) break;
      i = j + 1;
    }
  }
  return out;
}
const asnDir = dirname(createRequire(import.meta.url).resolve("@ip-location-db/asn/package.json"));
const asnVersion = JSON.parse(readFileSync(join(asnDir, "package.json"), "utf8")).version;
const asNames = new Map();
for (const file of ["asn-ipv4.csv", "asn-ipv6.csv"]) {
  for (const line of readFileSync(join(asnDir, file), "utf8").split("\n")) {
    if (line === "") continue;
    const [, , asn, name] = csvFields(line);
    if (!asNames.has(Number(asn))) asNames.set(Number(asn), name ?? "");
  }
}

// --- Sources ---
const read = (source) => readFileSync(join(FROM, manifest[source].file), "utf8");
/** `AS123 # label` lines (X4BNet). */
function asnLines(source) {
  const out = [];
  for (const line of read(source).split(/\r?\n/)) {
    const m = /^\s*AS(\d+)\s*(?:#\s*(.*))?$/i.exec(line);
    if (m) out.push({ asn: Number(m[1]), label: (m[2] ?? "").trim(), source });
  }
  return out;
}
/** `ASN,"Entity"` rows (bad-asn-list). */
function csvAsns(source) {
  const out = [];
  for (const line of read(source).split(/\r?\n/).slice(1)) {
    const [asn, entity] = csvFields(line.replace(/,\s+"/, ',"'));
    if (/^\d+$/.test(asn ?? "")) out.push({ asn: Number(asn), label: (entity ?? "").trim(), source });
  }
  return out;
}

const tokens = (s) =>
  new Set(
    s
      .toLowerCase()
      .replace(/https?:\S+/g, " ")
      .replace(/,\s*[a-z]{2}\s*$/i, " ") // trailing country code
      .split(/[^a-z0-9]+/)
      .filter((t) => t.length >= 3 && !STOP.has(t) && !/^\d+$/.test(t)),
  );
const compact = (s) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Does the bundled AS name confirm the provider a source names? The kind of match, or null. */
function nameCheck(label, name) {
  const bare = label.replace(/https?:\S+/g, " ").replace(/,\s*[a-z]{2}\s*$/i, "");
  const want = tokens(bare);
  const a = compact(bare);
  const b = compact(name);
  if (a.length >= 4 && (a === b || b.includes(a) || a.includes(b))) return "name matches";
  const have = tokens(name);
  for (const t of want) if (have.has(t) || (t.length >= 4 && b.includes(t))) return "name matches";
  for (const t of have) if (t.length >= 4 && a.includes(t)) return "name matches";
  if (CONFIRMED.has(name)) return "renamed provider, confirmed by hand";
  if (HOSTING_NAME.test(name)) return want.size === 0 ? "unlabelled, bundled name says hosting" : "relabelled, bundled name says hosting";
  return null;
}

/** Check candidates (grouped by ASN: any source's label may confirm it) into ASN → {name, sources}. */
function verify(candidates, alreadyListed, stats) {
  const byAsn = new Map();
  for (const c of candidates) {
    stats.candidates++;
    byAsn.set(c.asn, [...(byAsn.get(c.asn) ?? []), c]);
  }
  const kept = new Map();
  for (const [asn, group] of byAsn) {
    stats.checked++;
    const name = asNames.get(asn);
    const labels = group.map((c) => c.label);
    const drop = (why) => stats.dropped.push(`AS${asn} ${JSON.stringify(labels.join(" | "))} (${name ?? "not in the bundled data"}): ${why}`);
    if (EXCLUDE.has(asn)) drop(`excluded: ${EXCLUDE.get(asn)}`);
    else if (name === undefined) drop("unknown to the bundled AS data (announces no address space)");
    else if (EYEBALL.test(name) || labels.some((l) => EYEBALL.test(l.replace(/https?:\S+/g, "")))) drop("name looks like an eyeball, academic or public network");
    else {
      const how = labels.map((l) => nameCheck(l, name)).filter((h) => h !== null).sort()[0];
      if (how === undefined) drop("the bundled AS name does not match the provider the source names");
      else if (alreadyListed.has(asn)) stats.handWritten++;
      else {
        stats.how[how] = (stats.how[how] ?? 0) + 1;
        stats.keptDetail.push(`AS${asn} ${JSON.stringify(labels.join(" | "))} -> ${name} (${how})`);
        kept.set(asn, { asn, name, sources: new Set(group.map((c) => c.source)) });
      }
    }
  }
  return kept;
}

// --- Output ---
const BEGIN_SNAPSHOT = "# BEGIN snapshot by `node tools/lists-snapshot.mjs`; edits inside this block are replaced";
const END_SNAPSHOT = "# END snapshot";
function replaceSnapshot(text, lines) {
  const block = [BEGIN_SNAPSHOT, ...lines, END_SNAPSHOT].join("\n");
  const begin = text.indexOf(BEGIN_SNAPSHOT);
  const end = begin < 0 ? -1 : text.indexOf(END_SNAPSHOT, begin);
  if (begin >= 0 && end >= 0) return `${text.slice(0, begin)}${block}${text.slice(end + END_SNAPSHOT.length)}`;
  // Before the generated block, so `lists update` output stays last.
  const generated = text.indexOf("# BEGIN generated");
  if (generated >= 0) return `${text.slice(0, generated)}${block}\n${text.slice(generated)}`;
  return `${text.replace(/\n*$/, "\n")}${block}\n`;
}
const clean = (s) => s.replace(/[#\r\n]/g, " ").replace(/\s+/g, " ").trim();
const sourceTag = (ids) => [...ids].map((id) => `${id} ${manifest[id].licence.split(";")[0]} ${manifest[id].date}`).join("; ");
function legend(ids, extra) {
  return [
    `# Snapshot cut ${AS_OF}; ASNs checked against @ip-location-db/asn ${asnVersion}. Sources (tools/lists-snapshot/sources/manifest.json):`,
    ...ids.map((id) => `#   ${id}: ${manifest[id].what}, ${manifest[id].licence}, data of ${manifest[id].date}, ${manifest[id].url}`),
    ...extra.map((l) => `# ${l}`),
  ];
}
function asnEntries(kept, kind = "asn") {
  return [...kept.values()]
    .sort((a, b) => a.asn - b.asn)
    .map((e) => {
      const exp = [...e.sources].map((s) => expiry(s, kind)).sort().at(-1);
      return `AS${e.asn} expires=${exp} # ${clean(e.name).slice(0, 80)} (${sourceTag(e.sources)})`;
    });
}
function handWrittenAsns(text) {
  const generated = text.replace(/# BEGIN (snapshot|generated)[\s\S]*?# END (snapshot|generated)/g, "");
  return new Set(parseListText(generated).entries.filter((e) => "asn" in e.target).map((e) => e.target.asn));
}
function rangesOf(source) {
  const out = [];
  let bad = 0;
  for (const line of read(source).split(/\r?\n/)) {
    const token = line.replace(/#.*$/, "").trim();
    if (token === "") continue;
    const r = parseRange(token, false);
    if ("error" in r) bad++;
    else out.push(rangeText(r));
  }
  return { ranges: [...new Set(out)], bad };
}

const report = [];
const files = new Map();
const file = (name) => files.get(name) ?? readFileSync(join(DIR, `${name}.txt`), "utf8");

// hosting.txt: datacenter ASNs from X4BNet and bad-asn-list.
{
  const text = file("hosting");
  const stats = { candidates: 0, checked: 0, handWritten: 0, how: {}, dropped: [], keptDetail: [] };
  const kept = verify([...asnLines("x4bnet-dc"), ...csvAsns("bad-asn")], handWrittenAsns(text), stats);
  const lines = [...legend(["x4bnet-dc", "bad-asn"], ["Each entry: the AS name in the bundled data (source, licence, data date)."]), ...asnEntries(kept)];
  files.set("hosting", replaceSnapshot(text, lines));
  report.push({ list: "hosting", ...stats, kept: kept.size, dropped: stats.dropped.length, droppedDetail: stats.dropped });
}

// vpn.txt: VPN provider ASNs (X4BNet vpn, plus the datacenter-list ASNs it names as VPN hosts) and server addresses.
{
  const text = file("vpn");
  const stats = { candidates: 0, checked: 0, handWritten: 0, how: {}, dropped: [], keptDetail: [] };
  const vpnHosts = asnLines("x4bnet-dc").filter((c) => /vpn|datacamp|anonymi/i.test(c.label.replace(/https?:\S+/g, "")));
  const kept = verify([...asnLines("x4bnet-vpn"), ...vpnHosts], handWrittenAsns(text), stats);
  const ips = [];
  const ipStats = {};
  for (const [source, what] of [["x4bnet-mullvad", "Mullvad"], ["x4bnet-pia", "Private Internet Access"]]) {
    const { ranges, bad } = rangesOf(source);
    ipStats[source] = { ranges: ranges.length, unparseable: bad };
    for (const r of ranges) ips.push(`${r} expires=${expiry(source, "vpnIp")} # ${what} VPN server (${sourceTag([source])})`);
  }
  const lines = [
    ...legend(["x4bnet-vpn", "x4bnet-dc", "x4bnet-mullvad", "x4bnet-pia"], [
      "ASNs: the AS name in the bundled data (source, licence, data date); x4bnet-dc entries are those its comments name as VPN hosts.",
      "Not shipped: X4BNet's ProtonVPN addresses (upstream feed stopped 2025-04) and Apple iCloud Private Relay (ordinary iPhone users).",
    ]),
    ...asnEntries(kept),
    ...ips,
  ];
  files.set("vpn", replaceSnapshot(text, lines));
  report.push({ list: "vpn", ...stats, kept: kept.size, dropped: stats.dropped.length, droppedDetail: stats.dropped, ips: ipStats });
}

// tor-exits.txt: the generated block, as `lists update` would write it from the Tor Project list.
{
  const { ranges, bad } = rangesOf("tor");
  const exp = expiry("tor", "tor");
  const lines = [
    ...legend(["tor"], [`Offline snapshot; \`npx riskgate lists update\` replaces this block with the live list. Expires ${exp}.`]),
    ...ranges.map((r) => `${r} expires=${exp} # tor exit (Tor Project list, ${manifest.tor.date})`),
  ];
  files.set("tor-exits", replaceBlock(file("tor-exits"), lines));
  report.push({ list: "tor-exits", addresses: ranges.length, unparseable: bad, expires: exp });
}

// Every written file must still parse cleanly, and the residential test networks stay unlisted.
let changed = false;
for (const [name, text] of files) {
  const { errors, entries } = parseListText(text);
  if (errors.length > 0) throw new Error(`${name}: ${errors.slice(0, 3).map((e) => `${e.line}: ${e.message}`).join("; ")}`);
  for (const asn of [3320, 17676]) if (entries.some((e) => "asn" in e.target && e.target.asn === asn)) throw new Error(`${name}: lists residential AS${asn}`);
  const path = join(DIR, `${name}.txt`);
  if (readFileSync(path, "utf8") !== text) {
    changed = true;
    if (!CHECK) writeFileSync(path, text);
  }
}
const verbose = process.argv.includes("--verbose");
for (const r of report) {
  const { droppedDetail, keptDetail, ...summary } = r;
  console.log(JSON.stringify(summary));
  if (verbose && droppedDetail) for (const d of droppedDetail) console.log(`  dropped ${d}`);
  if (verbose && keptDetail) for (const d of keptDetail) console.log(`  kept ${d}`);
}
console.log(CHECK ? (changed ? "snapshot is out of date" : "snapshot is up to date") : changed ? "snapshot written" : "snapshot unchanged");
process.exitCode = CHECK && changed ? 1 : 0;
