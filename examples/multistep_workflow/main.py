"""The workflow: load → etl → train, each a child run; a step whose run key (code, env,
params, input content) matches a finished run is reused instead of run again."""

import argparse

import satchel
import satchel.projects

parser = argparse.ArgumentParser()
parser.add_argument("--users", type=int)
parser.add_argument("--epochs", type=int)
args = parser.parse_args()


def step(entry_point: str, **parameters: object) -> str:
    submitted = satchel.projects.run(".", entry_point, parameters=parameters, skip_if_done=True)
    print(f"{entry_point}: run {submitted.run_id}" + (" (reused)" if submitted.reused else ""))
    return submitted.run_id


load = step("load_raw_data", users=args.users)
etl = step("etl_data", ratings_csv=f"runs:/{load}/ratings-csv-dir/ratings.csv")
train = step("train", ratings_data=f"runs:/{etl}/ratings-clean-dir/ratings.csv", epochs=args.epochs)
satchel.log_param("train_run", train)
