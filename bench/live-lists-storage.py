# Storage per 10,000 live list entries: the audit hub's live_lists table (src/audit/hub/live-lists.ts)
# in SQLite, as the Durable Object stores it, and the JSON an isolate's refresh reads.
# Run: python3 bench/live-lists-storage.py
import json, os, sqlite3, tempfile

f = os.path.join(tempfile.mkdtemp(), "live.sqlite")
db = sqlite3.connect(f)
db.execute("CREATE TABLE live_lists (target TEXT, list TEXT, kind TEXT, effect TEXT, reason TEXT, source TEXT,"
           " created_at INTEGER, expires_at INTEGER, PRIMARY KEY (target, list))")
db.commit()
empty = os.path.getsize(f)
rows = []
for i in range(10000):
    a = format(0xC6120000 + i * 256, "x")
    rows.append((f"cidr:4:{a}/24" if i % 2 else f"ip:4:{a}", "block", "cidr" if i % 2 else "ip", "add",
                 "incident 2026-12-02 credential stuffing", "cli", 1800000000000, 1800003600000))
db.executemany("INSERT INTO live_lists VALUES (?,?,?,?,?,?,?,?)", rows)
db.commit()
db.execute("VACUUM")
db.commit()
full = os.path.getsize(f)
cur = db.execute("SELECT * FROM live_lists")
cols = [c[0] for c in cur.description]
js = len(json.dumps([dict(zip(cols, r)) for r in cur.fetchall()], separators=(",", ":")))
print(json.dumps({"entries": 10000, "sqlite_bytes": full - empty, "bytes_per_entry": round((full - empty) / 10000), "refresh_json_bytes": js}))
