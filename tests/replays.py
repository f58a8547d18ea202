"""Counting replayed training steps: the tests of the captured step (kernel plan and op tape)
check that the replay really ran, not only that the results match."""
from minigrad.models import capture, tape


def count_replays(monkeypatch):
    """A one-element list that counts every ``Plan.run`` and ``Tape.run`` from now on."""
    count = [0]
    for cls in (tape.Tape, capture.Plan):
        def counting(self, *a, real=cls.run):
            count[0] += 1
            return real(self, *a)
        monkeypatch.setattr(cls, "run", counting)
    return count
