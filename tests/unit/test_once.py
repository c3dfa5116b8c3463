"""Each entry point's graph is built once per container, replaceable by a graph built with
fakes, and forgotten on reset (what tests and the local runtime do between "containers")."""

from __future__ import annotations

import threading

from harvest.once import Once


def test_builds_on_first_use_then_reuses() -> None:
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    once = Once(build)

    assert builds == []  # nothing at construction (import): a refused cold start pays nothing
    assert (once(), once()) == (1, 1)
    assert builds == [1]


def test_concurrent_first_uses_build_once() -> None:
    started = threading.Barrier(4)
    builds: list[object] = []

    def build() -> object:
        builds.append(object())
        return builds[-1]

    once = Once(build)
    seen: list[object] = []

    def use() -> None:
        started.wait()
        seen.append(once())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(builds) == 1
    assert seen == builds * 4


def test_override_then_reset_builds_afresh() -> None:
    counter = iter(range(1, 100))
    once = Once(lambda: next(counter))
    assert once() == 1

    once.override(42)
    assert once() == 42

    once.reset()
    assert once() == 2


def test_reset_all_forgets_every_graph_of_the_process() -> None:
    first, second = Once(object), Once(object)
    before = (first(), second())

    Once.reset_all()

    assert first() is not before[0]
    assert second() is not before[1]
