#!/bin/sh
# The main job (make demo): VSMR's sync on two simulated guests, then the
# hash engine's speed. Later: the end-to-end demo with three replicas.
set -e
BUILD=${BUILD:-build}
"$BUILD/bin/vsmr-simdemo"
