# Copied unmodified below this header from the pictograph SDK 1.69.146 sdist,
# tests/live/__init__.py (pip download --no-deps --no-binary :all: pictograph==1.69.146).
# Copyright (c) 2025 Pictograph, MIT License: see LICENSE in this directory.
# tests/test_sdk_live.py runs it against a served pictograph-testing fake.
