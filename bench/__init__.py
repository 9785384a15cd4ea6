"""Benchmark harness (`make bench`): seeds a large data set, serves the app with
gunicorn, loads it with wrk and compares with two references. Not part of the app."""
