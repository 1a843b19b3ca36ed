#!/usr/bin/env bash
# The main job: train a model on the fake through the real SDK and show what happened.
source "$(dirname "$0")/_env.sh"
pictograph-fake demo "$@"
