"""tests/heap.py and tests/__init__.py: the garbage collector, off while pytest starts, is on
again when a test runs, and what the start made is frozen."""

import gc


def test_the_garbage_collector_is_on_and_the_start_frozen():
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
