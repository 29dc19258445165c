#!/usr/bin/env bash
# otakit fleet serve on SQLite: a rollout in three groups advances on success, pauses
# at the error threshold and resumes; another is canceled (common.bash's scenario).
source "$(dirname "$0")/common.bash"

start_fleet main --data-dir "$T/data"
rollout_scenario
t_finish
