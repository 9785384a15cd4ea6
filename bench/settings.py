"""The production settings plus one reference view, for benchmarks only.

Same middleware, same everything: only the URL map differs (bench.urls adds
/bench/ping/), so production URLs stay free of benchmark views."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
BENCH_REFERENCE_VIEWS = True
