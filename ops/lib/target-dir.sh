# Sourced by the test and benchmark scripts: sets TARGET_DIR to the directory cargo builds
# into. A CARGO_TARGET_DIR set by the caller (or a build.target-dir in a cargo config) wins,
# since `cargo metadata` reports it; otherwise it is cargo's default, `target/` in the
# workspace. No path of any particular machine is assumed.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export TARGET_DIR
