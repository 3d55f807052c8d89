#!/usr/bin/env bash
# Submit script for Snakemake's generic cluster executor, run locally: each job is its own process,
# started in the background as a batch system would start it, with its output in a log beside the
# job script. Used by bench/bench_norway.py --cluster and tests/test_pipeline.py to exercise the
# cluster path (on SLURM, use snakemake-executor-plugin-slurm instead). Prints a job id as sbatch does.
set -euo pipefail
jobscript="$1"
log="${jobscript}.log"
nohup bash "$jobscript" > "$log" 2>&1 &
echo "$!"
