"""A token bucket for one process: sends at most ``rate`` per second on average, ``burst`` at once.

The bucket holds up to ``burst`` tokens and gains ``rate`` tokens per second; a send takes one.
:meth:`TokenBucket.reserve` never refuses: it takes the token now and says how long to wait before
using it (the bucket may go negative, which queues the following sends behind it), so a batch
drains at the rate instead of failing. Time comes in as an argument (seconds on a monotonic clock),
so the bucket is pure and a test steps time by hand. Cross-process pacing (several workers sharing
one provider quota) is the store's ``send_pacing`` row, not this.

>>> bucket = TokenBucket(rate_per_s=2, burst=2, now=0.0)
>>> [bucket.reserve(0.0) for _ in range(4)]      # two at once, then one every half second
[0.0, 0.0, 0.5, 1.0]
>>> bucket.try_take(1.0), bucket.try_take(1.5), bucket.available(10.0)
(False, True, 2.0)
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """Token bucket with explicit time (see the module). ``burst`` defaults to ``max(1, rate)``:
    one second's worth of sends may go at once."""

    def __init__(self, rate_per_s: float, burst: float | None = None, *, now: float) -> None:
        if not rate_per_s > 0:
            raise ValueError("the send rate must be positive")
        self.rate = float(rate_per_s)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        if not self.burst >= 1:
            raise ValueError("the burst must allow at least one send")
        self._tokens = self.burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:  # a clock that steps back adds nothing (and takes nothing away)
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def available(self, now: float) -> float:
        """Tokens available at ``now`` (negative while reservations are queued)."""
        self._refill(now)
        return self._tokens

    def reserve(self, now: float, n: int = 1) -> float:
        """Take ``n`` tokens; the seconds from ``now`` until they may be used (0 when at once)."""
        self._refill(now)
        self._tokens -= n
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def try_take(self, now: float, n: int = 1) -> bool:
        """Take ``n`` tokens if they are there now; otherwise take nothing and say False."""
        self._refill(now)
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False
