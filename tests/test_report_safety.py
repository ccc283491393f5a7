"""A test's captured output may hold text no codec can write (a lone surrogate from hostile
input); the run must still report it, also from a pytest-xdist worker (see conftest)."""

from __future__ import annotations

import logging


def test_a_lone_surrogate_in_the_captured_log_is_reported_not_an_internal_error(caplog):
    logging.getLogger("slotbot.test").warning("hostile text: \udfff")
    print("and on stdout: \udfff")
    assert "\udfff" in caplog.text
