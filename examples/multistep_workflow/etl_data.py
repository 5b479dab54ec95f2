"""Step 2: clean the raw ratings (users with too few ratings dropped, timestamps removed)."""

import argparse
import csv
import tempfile
from collections import Counter
from pathlib import Path

import satchel

parser = argparse.ArgumentParser()
parser.add_argument("--ratings-csv")
parser.add_argument("--min-ratings-per-user", type=int)
args = parser.parse_args()

with open(args.ratings_csv, newline="") as fh:
    rows = list(csv.DictReader(fh))
per_user = Counter(row["user_id"] for row in rows)
kept = [row for row in rows if per_user[row["user_id"]] >= args.min_ratings_per_user]
satchel.log_metric("rows_in", len(rows))
satchel.log_metric("rows_kept", len(kept))
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp, "ratings.csv")
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["user_id", "movie_id", "rating"])
        for row in kept:
            writer.writerow([row["user_id"], row["movie_id"], row["rating"]])
    satchel.log_artifact(str(out), "ratings-clean-dir")
print(f"kept {len(kept)} of {len(rows)} ratings")
