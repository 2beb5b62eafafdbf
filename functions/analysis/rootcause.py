"""Root-cause stage: a causal graph over the failures, its roots ranked, each with a why-chain.

Nodes are (signature, service) pairs. An edge u → v says "u can explain v": v's category is one
the signature file lists under u's `causes`, and either both happen in the same service or v names
u's service as the host it failed to reach. Roots are the strongly connected components nobody
upstream explains; noise never causes anything and is never a root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from functions.analysis.classify.signatures import render_template
from functions.analysis.deploys import RevisionTraffic, detect_bad_deploy, rollback_command
from functions.analysis.rootmerge import merge_same_kind, merge_shared_cause, split_minor
from functions.core.model import Action, Category, Failure, Health, Priority, RootCause, ServiceHealth, Severity

# Categories that never explain anything else, nor stand as a root themselves.
_NOT_CAUSAL = frozenset({Category.NOISE, Category.UNKNOWN})
# Categories that describe reaching another host, so they may name the service that failed.
_REACHES_OTHERS = frozenset(
    {Category.NETWORK, Category.TIMEOUT, Category.WEBSOCKET, Category.AUTH, Category.TLS, Category.DATABASE}
)
_MAX_CHAIN = 6
# How badly a root's service is hurt, worst first: among equally severe roots, the one behind a
# FAILING service leads the card even when a DEGRADED service's root logged more lines.
_IMPACT_RANK = {Health.FAILING: 0, Health.DEGRADED: 1, Health.UNKNOWN: 2, Health.HEALTHY: 3}
@dataclass(frozen=True)
class SignatureInfo:
    """What the root-cause stage needs to know of a signature, taken from the signature file."""

    causes: frozenset[Category] = frozenset()
    action_priority: Priority | None = None
    action_text: str = ""
    failed_start: bool = False
    crashes_instance: bool = False  # an application failure that ends the process (a Go panic)
    summary: str = ""  # the summary template ("missing Python module '{module}'"), for one service's values


@dataclass(frozen=True)
class _CauseNode:
    failure: Failure
    service: str
    count: int
    summary: str = ""  # the failure's summary with this service's own entity values

    @property
    def key(self) -> tuple[str, str]:
        return (self.failure.signature, self.service)

    @property
    def first_seen(self) -> datetime | None:
        """When it began in this node's service (the failure's onset when only one service has it)."""
        return self.failure.first_seen_by_service.get(self.service, self.failure.first_seen)

    @property
    def entities(self) -> Mapping[str, tuple[str, ...]]:
        """What it named in this node's service."""
        return self.failure.entities_by_service.get(self.service, self.failure.entities)

    def describe(self) -> str:
        where = f"{self.service}: " if self.service else ""
        return f"{where}{self.summary or self.failure.summary} (×{self.count})"


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of the stage: primary roots, contributing (warning-level) roots, actions."""

    root_causes: tuple[RootCause, ...]
    contributing: tuple[RootCause, ...]
    actions: tuple[Action, ...]


def can_cause(failure: Failure) -> bool:
    """Whether a failure could have caused an outage, and so may explain others or stand as a root.

    Not noise or unclassified lines; not a verdict that rests on a weak cue alone (a word, a status:
    enough to count a line, not to name a cause); not a failure made only of requests answered with
    a client error (the server answering a client, whatever its URL says).
    """
    return (
        failure.category not in _NOT_CAUSAL
        and not failure.weak
        and failure.client_errors < failure.count
    )


def _summary_of(node: _CauseNode, info: Mapping[str, SignatureInfo]) -> str:
    """The failure's summary with what it named in the node's own service (another service's module
    or host would send the reader to the wrong place)."""
    template = info.get(node.failure.signature, SignatureInfo()).summary
    if not template or node.service not in node.failure.entities_by_service:
        return node.failure.summary
    return render_template(template, {k: v[0] for k, v in node.entities.items() if v})


def _nodes(failures: Sequence[Failure], info: Mapping[str, SignatureInfo]) -> list[_CauseNode]:
    nodes = []
    for failure in failures:
        if failure.category in _NOT_CAUSAL:
            continue
        by_service = failure.counts_by_service or {"": failure.count}
        for service, count in by_service.items():
            if count:
                node = _CauseNode(failure, service, count)
                nodes.append(replace(node, summary=_summary_of(node, info)))
    return nodes


def _names_service(failure: Failure, service: str) -> bool:
    """True when the failure's host entity points at `service` (e.g. host "auth-svc.internal")."""
    if not service:
        return False
    for host in failure.entities.get("host", ()):
        head = host.lower().split(".")[0].split(":")[0]
        if head == service or head.startswith(service + "-") or service.startswith(head + "-"):
            return True
    return False


def _can_explain(u: _CauseNode, v: _CauseNode, info: Mapping[str, SignatureInfo]) -> bool:
    if u is v or not can_cause(u.failure):
        return False
    if u.failure.signature == v.failure.signature and u.service == v.service:
        return False
    u_info = info.get(u.failure.signature, SignatureInfo())
    if (
        u.service == v.service
        and u.failure.category is v.failure.category is Category.CONTAINER_STARTUP
        and not u_info.failed_start
        and info.get(v.failure.signature, SignatureInfo()).failed_start
    ):
        return True  # a crash (exit code, OOM kill, failed probe) is why the instance never started
    v_info = info.get(v.failure.signature, SignatureInfo())
    if u.failure.category is Category.CONTAINER_STARTUP and v_info.crashes_instance:
        return False  # a crash that ends the process is why the container exits, not the reverse
    causes = u_info.causes
    if u_info.crashes_instance:
        causes = causes | {Category.CONTAINER_STARTUP}  # same service only: not a reach category
    if v.failure.category not in causes:
        return False
    if u.failure.first_seen and v.failure.last_seen and u.failure.first_seen > v.failure.last_seen:
        return False  # a cause cannot start after its effect has ended
    if u.service == v.service:
        return True
    return v.failure.category in _REACHES_OTHERS and _names_service(v.failure, u.service)


def _cross_service_edges(u: _CauseNode, v: _CauseNode) -> bool:
    """A failure in service Y explains a reach-failure in X that names Y, whatever the categories."""
    return (
        u.service != v.service
        and can_cause(u.failure)
        and u.failure.severity in (Severity.CRITICAL, Severity.ERROR)
        and v.failure.category in _REACHES_OTHERS
        and _names_service(v.failure, u.service)
    )


def _strongly_connected(n: int, edges: Sequence[Sequence[int]]) -> list[int]:
    """Component id of each node (iterative Tarjan): cycles in the category graph must not hide roots."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    n_comp = 0
    for start in range(n):
        if index[start] != -1:
            continue
        work = [(start, 0)]
        while work:
            node, child_i = work.pop()
            if child_i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            recurse = False
            children = edges[node]
            while child_i < len(children):
                child = children[child_i]
                child_i += 1
                if index[child] == -1:
                    work.append((node, child_i))
                    work.append((child, 0))
                    recurse = True
                    break
                if on_stack[child]:
                    low[node] = min(low[node], index[child])
            if recurse:
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    comp[member] = n_comp
                    if member == node:
                        break
                n_comp += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return comp


def _epoch(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("inf")


def _rank_key(node: _CauseNode) -> tuple[int, int, float]:
    """Roots rank by severity, then count, then earliest onset (docs/ARCHITECTURE.md)."""
    return (node.failure.severity.rank, -node.count, _epoch(node.failure.first_seen))


def _impact_key(cause: RootCause, health: Mapping[str, ServiceHealth]) -> tuple[int, int, int, float]:
    """Final order of merged roots: how hurt the service is, then severity, then lines, then onset.

    Every primary root is an error or worse; which of them is "critical" is the signature author's
    guess for the whole class, made without this incident, while the service's health is measured
    here. So the cause behind a FAILING service leads the one behind a DEGRADED service whatever
    their signatures' severities; severity orders roots behind equally hurt services.
    """
    judged = health.get(cause.service)
    impact = _IMPACT_RANK[judged.status] if judged is not None else _IMPACT_RANK[Health.UNKNOWN]
    return (impact, cause.severity.rank, -cause.count, _epoch(cause.first_seen))


def _longest_chain(start: int, nodes: Sequence[_CauseNode], edges: Sequence[Sequence[int]]) -> list[int]:
    """The downstream path from a root that explains the most: longest, then most lines."""
    best: list[int] = [start]
    best_score = (1, nodes[start].count)

    def walk(path: list[int]) -> None:
        nonlocal best, best_score
        tail = path[-1]
        extended = False
        if len(path) < _MAX_CHAIN:
            for child in sorted(edges[tail], key=lambda c: -nodes[c].count)[:4]:
                if child not in path:
                    extended = True
                    walk([*path, child])
        if not extended:
            score = (len(path), sum(nodes[i].count for i in path))
            if score > best_score:
                best, best_score = path, score

    walk([start])
    return best


def fill_action(text: str, entities: Mapping[str, tuple[str, ...]], service: str) -> str:
    """Fill {entity} placeholders with the most frequent value seen (and {service}); `[...]` segments
    whose entities are missing are dropped and other missing entities show as <name> (render_template)."""
    values = {k: v[0] for k, v in entities.items() if v}
    values.setdefault("service", service or "the service")
    return render_template(text, values)


def _health_symptom(service: str, health: Mapping[str, ServiceHealth]) -> str | None:
    judged = health.get(service)
    if judged is None or not judged.reasons:
        return None
    return f"{service} is {judged.status.value}: {', '.join(judged.reasons[:2])}"


def diagnose(
    failures: Sequence[Failure],
    info: Mapping[str, SignatureInfo],
    health: Sequence[ServiceHealth] = (),
    traffic: Mapping[str, Mapping[str, RevisionTraffic]] | None = None,
    region: str = "",
) -> Diagnosis:
    """Find the independent root causes of the failures, their why-chains and the actions they call for."""
    nodes = _nodes(failures, info)
    n = len(nodes)
    edges: list[list[int]] = [[] for _ in range(n)]
    for i, u in enumerate(nodes):
        for j, v in enumerate(nodes):
            if i != j and (_can_explain(u, v, info) or _cross_service_edges(u, v)):
                edges[i].append(j)
    comp = _strongly_connected(n, edges)
    has_parent = set()
    for i in range(n):
        for j in edges[i]:
            if comp[i] != comp[j]:
                has_parent.add(comp[j])
    roots_by_comp: dict[int, int] = {}
    for i, node in enumerate(nodes):
        c = comp[i]
        if c in has_parent or not can_cause(node.failure):
            continue
        current = roots_by_comp.get(c)
        if current is None or _first_key(node) < _first_key(nodes[current]):
            roots_by_comp[c] = i
    health_by_service = {h.service: h for h in health}
    traffic = traffic or {}
    causes: list[tuple[tuple[int, int, float], RootCause]] = []
    explained: dict[tuple[str, str], tuple[str, str]] = {}
    deploy_checked: set[str] = set()
    for i in sorted(roots_by_comp.values(), key=lambda k: _rank_key(nodes[k])):
        root = nodes[i]
        path = _longest_chain(i, nodes, edges)
        for member in path[1:]:
            explained.setdefault(nodes[member].key, root.key)
        chain = [nodes[k].describe() for k in reversed(path)]
        symptom = _health_symptom(nodes[path[-1]].service, health_by_service)
        if symptom:
            chain.insert(0, symptom)
        revision, previous = "", ""
        deploy = None
        if root.service not in deploy_checked:  # a bad deploy is named once, on the service's main root
            deploy_checked.add(root.service)
            deploy = detect_bad_deploy(root.service, traffic.get(root.service, {}))
        if deploy:
            revision, previous, reason = deploy
            chain.append(f"likely a bad deploy: {reason}")
        causes.append(
            (
                _rank_key(root),
                RootCause(
                    category=root.failure.category,
                    signature=root.failure.signature,
                    service=root.service,
                    summary=root.summary,
                    chain=tuple(chain),
                    count=root.count,
                    severity=root.failure.severity,
                    first_seen=root.first_seen,
                    evidence=root.failure.example,
                    revision=revision,
                    previous_revision=previous,
                    entities=root.entities,
                ),
            )
        )
    for i in roots_by_comp.values():
        for member in _reachable(i, edges) | {k for k in range(n) if comp[k] == comp[i]}:
            explained.setdefault(nodes[member].key, nodes[i].key)
    causes.sort(key=lambda item: item[0])
    ranked = merge_same_kind([cause for _, cause in causes])
    # Merging sums counts, so rank the primary roots again, now also by the harm done to their service.
    primary = tuple(
        sorted(
            (c for c in ranked if c.severity in (Severity.CRITICAL, Severity.ERROR)),
            key=lambda cause: _impact_key(cause, health_by_service),
        )
    )
    contributing = tuple(c for c in ranked if c not in primary)
    primary = merge_shared_cause(primary)
    primary, minor = split_minor(primary)
    contributing = (*contributing, *minor)
    if not primary:
        primary, contributing = contributing, ()
    actions = _actions(primary, contributing, failures, info, region, explained, health_by_service)
    return Diagnosis(primary, contributing, actions)


def _reachable(start: int, edges: Sequence[Sequence[int]]) -> set[int]:
    """Every node downstream of `start`: what fixing `start` would fix."""
    seen = {start}
    todo = [start]
    while todo:
        for child in edges[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _first_key(node: _CauseNode) -> tuple[float, int, int]:
    """Inside a causal cycle, the earliest onset is the best guess at the cause."""
    return (_epoch(node.failure.first_seen), node.failure.severity.rank, -node.count)


def _actions(
    primary: Sequence[RootCause],
    contributing: Sequence[RootCause],
    failures: Sequence[Failure],
    info: Mapping[str, SignatureInfo],
    region: str,
    explained: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    health: Mapping[str, ServiceHealth] | None = None,
) -> tuple[Action, ...]:
    """One action per distinct fix, by priority, then by the harm done to the service it helps.

    Roots first (a rollback, then what their signature says); then the failures no root explains.
    A failure a root explains gets no action of its own: its fix is the root's fix, and saying it
    again in other words ("fix the crash before exit(3)", "instances crash during start-up") only
    buries the one thing to do. Noise, weak cues and client errors are not failures to fix.
    """
    explained = explained or {}
    health = health or {}
    actions: list[tuple[tuple[int, int, int, int], Action]] = []
    seen: set[str] = set()

    def impact(service: str, count: int) -> tuple[int, int]:
        judged = health.get(service)
        return (_IMPACT_RANK[judged.status] if judged else _IMPACT_RANK[Health.UNKNOWN], -count)

    def add(priority: Priority, text: str, category: Category | None, signature: str,
            rank: tuple[int, int]) -> None:
        if text and text not in seen:
            seen.add(text)
            order = (_PRIORITY_ORDER[priority], *rank, len(actions))
            actions.append((order, Action(priority, text, category, signature)))

    # Roots are already ranked by severity and by the harm done to their service: their actions keep
    # that order, ahead of same-priority actions for the failures no root explains.
    for index, cause in enumerate(primary):
        root_rank = (-1, index)
        if cause.previous_revision:
            add(
                Priority.P0,
                f"Roll back {cause.service} to {cause.previous_revision}: "
                f"`{rollback_command(cause.service, cause.previous_revision, region)}`",
                cause.category,
                cause.signature,
                root_rank,
            )
        sig = info.get(cause.signature)
        if sig and sig.action_text:
            # The signature's priority is a guess made without context; here the fix of a root behind a
            # service that is failing or degraded is what ends the outage, so it comes first.
            priority = sig.action_priority or Priority.P0
            if impact(cause.service, cause.count)[0] <= _IMPACT_RANK[Health.DEGRADED]:
                priority = Priority.P0
            add(priority, fill_action(sig.action_text, cause.entities, cause.service),
                cause.category, cause.signature, root_rank)
    for cause in contributing:
        sig = info.get(cause.signature)
        if sig and sig.action_text:
            priority = sig.action_priority or Priority.P1
            if priority is Priority.P0:
                priority = Priority.P1  # a warning-level contributor never outranks the roots
            add(priority, fill_action(sig.action_text, cause.entities, cause.service), cause.category,
                cause.signature, impact(cause.service, cause.count))
    # A failure of the same kind as a root (category and service) is part of that problem: fill its
    # action with what the root knows too, so one piece of advice is not given twice, once without
    # the entity (e.g. the memory limit named only by a sibling line).
    known = {(c.category, c.service): c.entities for c in (*primary, *contributing)}
    rest = sorted((f for f in failures if can_cause(f)), key=lambda f: (f.severity.rank, -f.count))
    for failure in rest:
        sig = info.get(failure.signature)
        if not sig or not sig.action_text:
            continue
        services = list(failure.counts_by_service or {"": failure.count})
        if services and all((failure.signature, s) in explained for s in services):
            continue  # fixed by the root that explains it
        priority = sig.action_priority or Priority.P2
        if priority is Priority.P0:
            priority = Priority.P1  # only roots carry P0: fixing a symptom first wastes the first minutes
        service = failure.services[0] if failure.services else ""
        entities = {**known.get((failure.category, service), {}), **failure.entities}
        add(priority, fill_action(sig.action_text, entities, service), failure.category, failure.signature,
            impact(service, failure.count))
    return tuple(action for _, action in sorted(actions, key=lambda item: item[0]))


_PRIORITY_ORDER = {Priority.P0: 0, Priority.P1: 1, Priority.P2: 2}
