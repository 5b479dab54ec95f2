"""Step 1: the raw ratings (user, movie, rating, timestamp) as a CSV artifact.

MLflow's example downloads MovieLens; here they are generated from a seed, so the step is
offline and deterministic: the same parameters give the same bytes.
"""

import argparse
import csv
import random
import tempfile
from pathlib import Path

import satchel

parser = argparse.ArgumentParser()
parser.add_argument("--users", type=int)
parser.add_argument("--movies", type=int)
parser.add_argument("--seed", type=int)
args = parser.parse_args()

rng = random.Random(args.seed)
taste = [rng.uniform(-1, 1) for _ in range(args.users)]  # how generous each user is
quality = [rng.uniform(-1, 1) for _ in range(args.movies)]  # how good each movie is
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp, "ratings.csv")
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["user_id", "movie_id", "rating", "timestamp"])
        for user in range(args.users):
            for movie in rng.sample(range(args.movies), k=rng.randint(2, args.movies)):
                score = 3 + taste[user] + quality[movie] + rng.gauss(0, 0.3)
                rating = min(5.0, max(0.5, round(score * 2) / 2))
                writer.writerow([user, movie, rating, 1_600_000_000 + rng.randrange(10**7)])
    satchel.log_artifact(str(out), "ratings-csv-dir")
print("wrote ratings-csv-dir/ratings.csv")
