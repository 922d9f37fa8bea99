"""The step graph of a journey: which cycles are allowed.

Steps are nodes; an edge runs from a step to every step it can lead to
(:meth:`~.model.Journey.successors`: ``next``, the fall-through to the following step, branch
cases and default, split variants, ``on_event`` / ``on_timeout``). A cycle is a strongly connected
set of steps (Tarjan's algorithm) with more than one step, or one step leading to itself. Rules:

* a cycle must hold a wait step (``wait``, ``wait_until``, ``wait_for_event``): otherwise one
  advance would run it forever (the state machine also stops any run after 100 instant steps);
* a cycle must not hold an action step: each (enrollment, step) acts at most once (its message
  key), so the second lap would silently do nothing.

>>> from aftersales.core.journeys.parse import parse_journey
>>> doc = {"name": "j", "trigger": {"event": "order.placed"}, "steps": [
...     {"id": "a", "type": "branch", "cases": [{"when": {"field": "profile.x", "op": "is_null"}, "next": "b"}]},
...     {"id": "b", "type": "exit"}]}
>>> cycle_problems(parse_journey(doc))
[]
"""

from __future__ import annotations

from aftersales.core.errors import FieldError
from aftersales.core.journeys.model import ACTION_KINDS, WAIT_KINDS, Journey

__all__ = ["cycle_problems", "cycles"]


def cycles(journey: Journey) -> list[list[str]]:
    """The cyclic strongly connected sets of steps, each listed in step order."""
    edges = {s.id: sorted({t for t in journey.successors(s) if t is not None}) for s in journey.steps}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:  # iterative Tarjan: (node, next edge to look at)
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                target = edges[node][i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component, key=lambda sid: journey.index(sid) or 0))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found, key=lambda c: journey.index(c[0]) or 0)


def cycle_problems(journey: Journey) -> list[FieldError]:
    """One error per cycle that breaks a rule of the module docstring, at its first step."""
    problems: list[FieldError] = []
    for component in cycles(journey):
        kinds = {sid: journey.steps[journey.index(sid) or 0].kind for sid in component}
        loc = ("steps", journey.index(component[0]) or 0)
        shown = " -> ".join([*component, component[0]])
        if not any(k in WAIT_KINDS for k in kinds.values()):
            problems.append(FieldError(loc, f"the cycle {shown} has no wait step (wait, wait_until or wait_for_event)"))
        actions = [sid for sid, k in kinds.items() if k in ACTION_KINDS]
        if actions:
            problems.append(
                FieldError(
                    loc,
                    f"the cycle {shown} holds action step(s) {', '.join(actions)}: each step acts once per "
                    "enrollment, so a loop cannot repeat it",
                )
            )
    return problems
