"""What the database alone costs to store rows the server stored: CPU, bytes written and time.

    python3 bench/store_floor.py sqlite STORED_DB EMPTY_DB EVENTS_PER_COMMIT
    python3 bench/store_floor.py postgres DATABASE_URL EVENTS_PER_COMMIT

The stored events and their target-type rows are replayed into an empty, migrated database in
the server's commit order (row_id), EVENTS_PER_COMMIT events per transaction, each transaction
what the server's group commit does to these tables: insert the events, insert their target-type
rows, advance the organization's counter, commit durably (SQLite: WAL, synchronous=FULL;
PostgreSQL: synchronous_commit on, one statement per batch as the server sends it).

  sqlite    STORED_DB is a database a server wrote (stopped); EMPTY_DB a fresh one
            (`auditlog seed --events 0`, its page size set before any event). The rows are read
            from STORED_DB attached read-only, by this process (Python's sqlite3 module).
  postgres  DATABASE_URL is a fresh database with the stored rows copied into the tables
            floor_events, floor_target_types and floor_keys (the idempotency records, with a
            `position` column 1..n) and the organizations into organizations; the statements
            run through one psql process.

CPU is the whole machine's busy time over the replay (/proc/stat: the database's processes,
its background writers and the kernel's flushing included) less the same for a pass that only
reads the same chunks (and, on PostgreSQL, less psql's own time in each pass): reading the rows
and each statement's overhead are subtracted, so the floor is an optimistic one. Bytes written
(SQLite) are this process's /proc/self/io write_bytes, WAL frames and checkpoints, as the
server's are counted in bench/ceiling.sh. Run it on an otherwise idle machine.

The idempotency records of a keyed run (one per event) are replayed with their events, in the
same transactions. Prints one line of key=value pairs: events, keys, commits,
seconds, events_per_s, cpu_us_per_event, read_cpu_us_per_event, bytes_per_event (0 on
PostgreSQL), page_size (0 on PostgreSQL), log_leaves, log_cpu_us_per_event.

The log's rows: after the events, the Merkle log hashes the run's background builder stored
(tlog_hashes; on PostgreSQL copied into floor_hashes) are replayed as the builder stores them,
LOG_BATCH leaves per transaction: read the batch's leaf hashes from the events, advance the
tree's size, insert the batch's stored hashes, commit durably. log_cpu_us_per_event is that
pass's machine CPU per leaf, less a pass that only reads the same hashes: what the database
spends per event on the log, which the no-store run never pays. It leaves out what the builder
does once per round rather than per batch (its lease, the few stored hashes it reads back, the
signed checkpoint's row), so it too is an optimistic floor.
"""
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time

JIFFY_US = 1e6 / os.sysconf("SC_CLK_TCK")
# Leaves per builder transaction: APPEND_BATCH in crates/auditlog-server/src/tlog/builder.rs.
LOG_BATCH = 1024


def busy_jiffies():
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    return sum(fields[:8]) - fields[3] - fields[4]


def write_bytes():
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/self/io")


def chunks_of(row_ids, per_commit):
    return [(row_ids[i], row_ids[min(i + per_commit, len(row_ids)) - 1])
            for i in range(0, len(row_ids), per_commit)]


def stored_hash_count(leaves):
    """Stored hashes of a log of `leaves` leaves (tlog: each leaf adds itself and the subtrees it
    completes): 2n minus the number of ones in n."""
    return 2 * leaves - bin(leaves).count("1")


def log_batches(leaves):
    """(first leaf, end leaf, first stored index, end stored index) per builder transaction."""
    return [(a, min(a + LOG_BATCH, leaves), stored_hash_count(a),
             stored_hash_count(min(a + LOG_BATCH, leaves)))
            for a in range(0, leaves, LOG_BATCH)]


def measure(run):
    """(seconds, machine busy µs) of run(); run returns µs of CPU to leave out."""
    busy0, wall0 = busy_jiffies(), time.perf_counter()
    excluded_us = run()
    seconds = time.perf_counter() - wall0
    return seconds, (busy_jiffies() - busy0) * JIFFY_US - excluded_us


def replay_sqlite(stored, empty, per_commit):
    db = sqlite3.connect(empty, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON",
                   "temp_store = MEMORY"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("ATTACH ? AS s", (f"file:{stored}?mode=ro",))
    db.execute("INSERT INTO main.organizations SELECT * FROM s.organizations")
    db.execute("UPDATE main.organizations SET last_sequence = 0")
    row_ids = [r for (r,) in db.execute("SELECT row_id FROM s.events ORDER BY row_id")]
    chunks = chunks_of(row_ids, per_commit)
    # A keyed run stored one idempotency record per event, in the same order (same transaction):
    # each commit replays the records at the same positions as its events.
    key_rowids = [r for (r,) in db.execute("SELECT rowid FROM s.idempotency_keys ORDER BY rowid")]
    if key_rowids and len(key_rowids) != len(row_ids):
        sys.exit(f"{len(key_rowids)} idempotency records for {len(row_ids)} events")
    key_chunks = chunks_of(key_rowids, per_commit) if key_rowids else [None] * len(chunks)

    def read_pass():
        for (low, high), keys in zip(chunks, key_chunks):
            db.execute("SELECT count(*), sum(length(CAST(payload AS BLOB))) FROM s.events "
                       "WHERE row_id BETWEEN ? AND ?", (low, high)).fetchall()
            db.execute("SELECT count(*), sum(length(target_type)) FROM s.event_target_types "
                       "WHERE event_row_id BETWEEN ? AND ?", (low, high)).fetchall()
            if keys:
                db.execute("SELECT count(*), sum(length(body)) FROM s.idempotency_keys "
                           "WHERE rowid BETWEEN ? AND ?", keys).fetchall()
        return 0

    def write_pass():
        for (low, high), keys in zip(chunks, key_chunks):
            db.execute("BEGIN IMMEDIATE")
            if keys:
                db.execute("INSERT INTO main.idempotency_keys SELECT * FROM s.idempotency_keys "
                           "WHERE rowid BETWEEN ? AND ?", keys)
            db.execute("INSERT INTO main.events SELECT * FROM s.events "
                       "WHERE row_id BETWEEN ? AND ?", (low, high))
            db.execute("INSERT INTO main.event_target_types SELECT * FROM s.event_target_types "
                       "WHERE event_row_id BETWEEN ? AND ?", (low, high))
            db.execute("UPDATE main.organizations SET last_sequence = m.last FROM "
                       "(SELECT organization_id, max(sequence) AS last FROM s.events "
                       " WHERE row_id BETWEEN ? AND ? GROUP BY organization_id) AS m "
                       "WHERE main.organizations.id = m.organization_id", (low, high))
            db.execute("COMMIT")
        return 0

    read_pass()  # warms the page cache: both measured passes read from memory
    _, read_us = measure(read_pass)
    bytes0 = write_bytes()
    seconds, write_us = measure(write_pass)
    written = write_bytes() - bytes0
    copied = db.execute("SELECT count(*) FROM main.events").fetchone()[0]
    if copied != len(row_ids):
        sys.exit(f"replayed {copied} of {len(row_ids)} events")
    page_size = db.execute("PRAGMA main.page_size").fetchone()[0]
    log = replay_sqlite_log(db)
    return (len(row_ids), len(key_rowids), len(chunks), seconds, write_us, read_us, written,
            page_size) + log


def replay_sqlite_log(db):
    """The log pass on SQLite (see the module documentation): (leaves, CPU µs per leaf)."""
    trees = db.execute("SELECT organization_id, tree_size FROM s.tlog_trees "
                       "WHERE tree_size > 0").fetchall()
    if len(trees) != 1:
        sys.exit(f"expected one organization's log, found {len(trees)}")
    org, leaves = trees[0]
    db.execute("INSERT INTO main.tlog_trees (organization_id) VALUES (?)", (org,))
    batches = log_batches(leaves)

    def read_pass():
        for _, _, low, high in batches:
            db.execute("SELECT count(*), sum(length(hash)) FROM s.tlog_hashes "
                       "WHERE organization_id = ? AND stored_index >= ? AND stored_index < ?",
                       (org, low, high)).fetchall()
        return 0

    def write_pass():
        for first, end, low, high in batches:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO main.tlog_trees (organization_id) VALUES (?) "
                       "ON CONFLICT DO NOTHING", (org,))
            db.execute("SELECT sequence, leaf_hash FROM main.events WHERE organization_id = ? "
                       "AND sequence >= ? AND sequence < ? ORDER BY sequence",
                       (org, first, end)).fetchall()
            db.execute("UPDATE main.tlog_trees SET tree_size = ? WHERE organization_id = ? "
                       "AND tree_size = ?", (end, org, first))
            db.execute("INSERT INTO main.tlog_hashes SELECT * FROM s.tlog_hashes "
                       "WHERE organization_id = ? AND stored_index >= ? AND stored_index < ?",
                       (org, low, high))
            db.execute("COMMIT")
        return 0

    read_pass()
    _, read_us = measure(read_pass)
    _, write_us = measure(write_pass)
    stored = db.execute("SELECT count(*) FROM main.tlog_hashes").fetchone()[0]
    if stored != stored_hash_count(leaves):
        sys.exit(f"replayed {stored} of {stored_hash_count(leaves)} log hashes")
    return leaves, (write_us - read_us) / leaves


def psql_scalar(url, sql):
    return subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def run_psql(url, statements):
    """Runs the statements through one psql; returns psql's own CPU in µs."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write("\n".join(statements) + "\n")
        script.flush()
        child = subprocess.Popen(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null",
                                  "-f", script.name])
        _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        sys.exit(f"psql failed ({status})")
    return (usage.ru_utime + usage.ru_stime) * 1e6


def replay_postgres(url, per_commit):
    row_ids = [int(x) for x in psql_scalar(
        url, "SELECT row_id FROM floor_events ORDER BY row_id").split()]
    chunks = chunks_of(row_ids, per_commit)
    # A keyed run stored one idempotency record per event (floor_keys, numbered 1..n by
    # position): each commit inserts as many records as it has events, as the server's keyed
    # statement does. Which record goes with which event does not matter to the cost: the keys
    # are random either way.
    keys = int(psql_scalar(url, "SELECT count(*) FROM floor_keys"))
    if keys and keys != len(row_ids):
        sys.exit(f"{keys} idempotency records for {len(row_ids)} events")
    positions = [(i + 1, min(i + per_commit, len(row_ids)))
                 for i in range(0, len(row_ids), per_commit)]
    columns = ("id, environment, organization_id, sequence, occurred_at, received_at, action, "
               "actor_id, actor_name, target_count, payload, leaf_hash")
    key_columns = "environment, key, request_hash, status, body, created_at, expires_at"

    def read_keys(first, last):
        return (f"SELECT count(*), sum(octet_length(body)) FROM floor_keys "
                f"WHERE position BETWEEN {first} AND {last};" if keys else "")

    def insert_keys(first, last):
        return (f""",
records AS (
    INSERT INTO idempotency_keys ({key_columns}, claimed_until)
    SELECT {key_columns}, NULL FROM floor_keys
    WHERE position BETWEEN {first} AND {last} AND (SELECT count(*) FROM advanced) >= 0
    ORDER BY key)""" if keys else "")

    reads = [f"SELECT count(*), sum(octet_length(e.payload)), sum(octet_length(t.target_type)) "
             f"FROM floor_events e LEFT JOIN floor_target_types t ON t.event_row_id = e.row_id "
             f"WHERE e.row_id BETWEEN {low} AND {high};{read_keys(*at)}"
             for (low, high), at in zip(chunks, positions)]
    # One statement per batch, as the server's group commit sends it (autocommit: each one
    # commits, and waits for its WAL flush, before the next).
    writes = [f"""WITH advanced AS (
    UPDATE organizations o SET last_sequence = o.last_sequence + m.n
    FROM (SELECT organization_id, count(*) AS n FROM floor_events
          WHERE row_id BETWEEN {low} AND {high} GROUP BY organization_id) m
    WHERE o.id = m.organization_id RETURNING o.id),
inserted AS (
    INSERT INTO events ({columns})
    SELECT {columns} FROM floor_events WHERE row_id BETWEEN {low} AND {high} ORDER BY row_id
    RETURNING row_id, id, organization_id, occurred_at){insert_keys(*at)}
INSERT INTO event_target_types (organization_id, target_type, occurred_at, event_row_id)
SELECT i.organization_id, t.target_type, i.occurred_at, i.row_id
FROM inserted i JOIN floor_events s ON s.id = i.id
JOIN floor_target_types t ON t.event_row_id = s.row_id
WHERE (SELECT count(*) FROM advanced) >= 0;""" for (low, high), at in zip(chunks, positions)]
    run_psql(url, reads)  # warms the shared buffers
    _, read_us = measure(lambda: run_psql(url, reads))
    seconds, write_us = measure(lambda: run_psql(url, writes))
    copied = int(psql_scalar(url, "SELECT count(*) FROM events"))
    if copied != len(row_ids):
        sys.exit(f"replayed {copied} of {len(row_ids)} events")
    recorded = int(psql_scalar(url, "SELECT count(*) FROM idempotency_keys"))
    if recorded != keys:
        sys.exit(f"replayed {recorded} of {keys} idempotency records")
    return (len(row_ids), keys, len(chunks), seconds, write_us, read_us, 0, 0) + \
        replay_postgres_log(url)


def replay_postgres_log(url):
    """The log pass on PostgreSQL (see the module documentation): (leaves, CPU µs per leaf)."""
    trees = psql_scalar(url, "SELECT organization_id || ' ' || tree_size FROM floor_trees "
                             "WHERE tree_size > 0").split("\n")
    if len(trees) != 1 or not trees[0]:
        sys.exit(f"expected one organization's log, found {trees}")
    org, leaves = trees[0].split()
    leaves = int(leaves)
    psql_scalar(url, f"INSERT INTO tlog_trees (organization_id) VALUES ('{org}')")
    batches = log_batches(leaves)
    reads = [f"SELECT count(*), sum(octet_length(hash)) FROM floor_hashes WHERE organization_id "
             f"= '{org}' AND stored_index >= {low} AND stored_index < {high};"
             for _, _, low, high in batches]
    # One transaction per batch, as the builder's append_log_hashes.
    writes = [f"""BEGIN;
INSERT INTO tlog_trees (organization_id) VALUES ('{org}') ON CONFLICT DO NOTHING;
SELECT count(*), sum(octet_length(leaf_hash)) FROM (SELECT sequence, leaf_hash FROM events
    WHERE organization_id = '{org}' AND sequence >= {first} AND sequence < {end}
    ORDER BY sequence) l;
UPDATE tlog_trees SET tree_size = {end} WHERE organization_id = '{org}' AND tree_size = {first};
INSERT INTO tlog_hashes (organization_id, stored_index, hash)
    SELECT organization_id, stored_index, hash FROM floor_hashes
    WHERE organization_id = '{org}' AND stored_index >= {low} AND stored_index < {high};
COMMIT;""" for first, end, low, high in batches]
    # The event pass's dirty buffers are written out first, so that this pass is not charged
    # for them.
    psql_scalar(url, "CHECKPOINT")
    run_psql(url, reads)
    _, read_us = measure(lambda: run_psql(url, reads))
    _, write_us = measure(lambda: run_psql(url, writes))
    stored = int(psql_scalar(url, "SELECT count(*) FROM tlog_hashes"))
    if stored != stored_hash_count(leaves):
        sys.exit(f"replayed {stored} of {stored_hash_count(leaves)} log hashes")
    return leaves, (write_us - read_us) / leaves


if sys.argv[1] == "sqlite":
    result = replay_sqlite(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif sys.argv[1] == "postgres":
    result = replay_postgres(sys.argv[2], int(sys.argv[3]))
else:
    sys.exit("usage: store_floor.py sqlite STORED EMPTY N | postgres URL N")
events, keys, commits, seconds, write_us, read_us, written, page_size, log_leaves, log_us = result
print(f"events={events} keys={keys} commits={commits} seconds={seconds:.3f} "
      f"events_per_s={events / seconds:.0f} cpu_us_per_event={(write_us - read_us) / events:.1f} "
      f"read_cpu_us_per_event={read_us / events:.1f} bytes_per_event={written / events:.0f} "
      f"page_size={page_size} log_leaves={log_leaves} log_cpu_us_per_event={log_us:.1f}")
