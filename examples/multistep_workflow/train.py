"""Step 3: a baseline recommender (global mean + user and movie biases, fitted by SGD),
scored by RMSE on a fixed hold-out split."""

import argparse
import csv
import math

import satchel

parser = argparse.ArgumentParser()
parser.add_argument("--ratings-data")
parser.add_argument("--epochs", type=int)
parser.add_argument("--learning-rate", type=float)
args = parser.parse_args()

with open(args.ratings_data, newline="") as fh:
    rows = [(r["user_id"], r["movie_id"], float(r["rating"])) for r in csv.DictReader(fh)]
test = rows[::5]  # every fifth rating: a split that never changes
train = [row for i, row in enumerate(rows) if i % 5]
mean = sum(r for _, _, r in train) / len(train)
user_bias: dict[str, float] = {}
movie_bias: dict[str, float] = {}


def predict(user: str, movie: str) -> float:
    return mean + user_bias.get(user, 0.0) + movie_bias.get(movie, 0.0)


def rmse(data: list[tuple[str, str, float]]) -> float:
    return math.sqrt(sum((predict(u, m) - r) ** 2 for u, m, r in data) / len(data))


for epoch in range(args.epochs):
    for user, movie, rating in train:
        error = rating - predict(user, movie)
        user_bias[user] = user_bias.get(user, 0.0) + args.learning_rate * error
        movie_bias[movie] = movie_bias.get(movie, 0.0) + args.learning_rate * error
    satchel.log_metric("train_rmse", rmse(train), step=epoch)
satchel.log_metric("test_rmse", rmse(test))
print(f"test RMSE {rmse(test):.4f} after {args.epochs} epochs")
