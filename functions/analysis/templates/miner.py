"""Recurring-template miner: groups log messages into templates with variable parts masked.

An incident window holds thousands of messages but only a few dozen *shapes*; the card
shows shapes with counts. This is our own Drain-style online miner:

1. **Normalise and mask** (`functions.analysis.templates.masking`): a message is reduced to the line(s) that
   decide its shape and its variable parts are written ``<*>``, giving a masked key.
2. **Match.** Clusters sit in a tree keyed by token count and then by up to ``depth``
   leading tokens (a leading wildcard, or a node past ``max_children`` children, routes to
   a ``<*>`` branch). A message joins the most specific cluster whose constant tokens it
   all shares (a cluster wildcard absorbs any token); a message whose only differences are
   its own wildcards generalises the cluster instead. A join through wildcards needs at
   least ``similarity`` of the positions equal and ``MIN_CONTEXT_TOKENS`` constants, so
   short or mostly-variable templates never swallow unrelated messages.
3. **Siblings.** A word that differs in one position is usually a different event
   ("VM Started" / "VM Stopped"), but a position that keeps taking new words is a
   variable (user names, service names). When ``merge_after`` clusters differ only in the
   same single position, they merge into the oldest, with ``<*>`` there.

Template ids are the first 12 hex digits of BLAKE2b over the cluster's *first* masked
template, so they survive later generalisation and are the same in a fresh miner fed the
same lines. A merged cluster's id stays valid as an alias: ``resolve`` maps it to the
surviving id, ``template`` accepts it. Replaying lines adds no clusters and returns the
resolved ids of the first pass.

Speed and memory: exact messages, digit-normalised shapes, masked keys and token
classifications each sit in a bounded cache, so a repeated line costs one dict lookup and a
new line with a known shape one regex pass. At most ``max_clusters`` clusters stay live
(least recently used evicted in batches); emptied tree branches are pruned.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator

from functions.analysis.templates.masking import (
    EVICT_FRACTION,
    WILDCARD,
    Masker,
    keeps_digits,
    mask_message,
    normalise_message,
    trim_cache,
)

# The public API; mask_message and normalise_message are defined with the masking rules.
__all__ = ["TemplateMiner", "mask_message", "normalise_message", "template_id_of"]

MIN_CONTEXT_TOKENS = 2  # constants a template needs before its wildcards may absorb words
MAX_SIBLING_POSITIONS = 12  # word positions per template watched for becoming variables
TEMPLATE_ID_HEX_CHARS = 12

_CACHE_SIZE = 16_384  # entries in each of the message, shape and masked-key caches
_CACHED_MAX_CHARS = 1_024  # longer messages are masked every time rather than cached

_NO_KEYS = array("q")  # shared empty key list of clusters not watched for siblings


def template_id_of(masked: str) -> str:
    """The stable id of a cluster whose first masked template is ``masked``."""
    digest = hashlib.blake2b(masked.encode("utf-8"), digest_size=TEMPLATE_ID_HEX_CHARS // 2)
    return digest.hexdigest()


class _Cluster:
    """One template: its tokens, where it sits in the tree, and what merged into it."""

    __slots__ = (
        "aliases",
        "evicted",
        "last_used",
        "leaf",
        "merged_into",
        "seq",
        "sibling_keys",
        "size",
        "template_id",
        "tokens",
    )

    def __init__(self, template_id: str, tokens: list[str], seq: int) -> None:
        self.template_id = template_id
        self.tokens = tokens
        self.seq = seq
        self.size = 0
        self.last_used = 0
        self.leaf: _PrefixNode | None = None
        self.merged_into: _Cluster | None = None
        self.evicted = False
        self.aliases: list[str] = []
        self.sibling_keys = _NO_KEYS


class _PrefixNode:
    """A tree level: children by leading token; clusters at the leaf."""

    __slots__ = ("children", "clusters", "key", "parent")

    def __init__(self, parent: _PrefixNode | None = None, key: str = "") -> None:
        self.children: dict[str, _PrefixNode] = {}
        self.clusters: list[_Cluster] = []
        self.parent = parent
        self.key = key


def _fits(pattern: str, token: str) -> bool:
    """Whether ``token`` is an instance of a pattern token such as ``name=<*>,``."""
    parts = pattern.split(WILDCARD)
    if len(parts) == 1 or not token.startswith(parts[0]) or not token.endswith(parts[-1]):
        return False
    position, end = len(parts[0]), len(token) - len(parts[-1])
    if end <= position:
        return False  # a wildcard stands for at least one character
    for middle in parts[1:-1]:
        found = token.find(middle, position, end)
        if found < 0:
            return False
        position = found + len(middle)
    return True


class _Tree:
    """Clusters indexed by token count and leading tokens, with the join and merge rules."""

    def __init__(self, *, similarity: float, depth: int, max_children: int, merge_after: int) -> None:
        self._similarity = similarity
        self._depth = depth
        self._max_children = max_children
        self._merge_after = merge_after
        self._roots: dict[int, _PrefixNode] = {}
        self._siblings: dict[int, _Cluster | list[_Cluster]] = {}
        self._seq = 0
        self.live: dict[str, _Cluster] = {}
        self.aliases: dict[str, _Cluster] = {}

    @staticmethod
    def canonical(cluster: _Cluster | None) -> _Cluster | None:
        """The cluster a cached one merged into, or None once that was evicted."""
        if cluster is None:
            return None
        while cluster.merged_into is not None:
            cluster = cluster.merged_into
        return None if cluster.evicted else cluster

    def lookup(self, template_id: str) -> _Cluster:
        cluster = self.canonical(self.live.get(template_id) or self.aliases.get(template_id))
        if cluster is None:
            raise KeyError(template_id)
        return cluster

    def find(self, tokens: list[str]) -> tuple[_Cluster, bool] | None:
        """The cluster ``tokens`` joins, and whether joining generalises it (None: no cluster)."""
        size = len(tokens)
        best: _Cluster | None = None
        best_constants = -1
        widen: _Cluster | None = None
        widen_same = -1
        for cluster in self._candidates(tokens):
            constants = same = absorbed = widened = 0
            for have, got in zip(cluster.tokens, tokens, strict=True):
                if have == WILDCARD:
                    absorbed += got != WILDCARD
                    continue
                constants += 1
                if have == got:
                    same += 1
                elif got == WILDCARD or (WILDCARD in got and _fits(got, have)):
                    widened += 1
                elif WILDCARD in have and _fits(have, got):
                    same += 1
                    absorbed += 1
                else:
                    break
            else:
                if (absorbed or widened) and (same < MIN_CONTEXT_TOKENS or same < self._similarity * size):
                    continue
                if not widened:
                    if constants > best_constants:
                        best, best_constants = cluster, constants
                elif not absorbed and same > widen_same:
                    widen, widen_same = cluster, same
        if best is not None:
            return best, False
        return (widen, True) if widen is not None else None

    def add(self, key: str, tokens: list[str]) -> _Cluster:
        """Put a masked message (key and its tokens) into its cluster, creating one if none fits."""
        found = self.find(tokens)
        if found is None:
            return self._create(key, tokens)
        cluster, widen = found
        if widen:
            self._widen(cluster, tokens)
            while cluster.merged_into is not None:  # widening made it a twin of an older cluster
                cluster = cluster.merged_into
        return cluster

    def evict(self, count: int) -> None:
        """Forget the ``count`` least recently used clusters and their aliases."""
        for cluster in sorted(self.live.values(), key=lambda c: c.last_used)[:count]:
            cluster.evicted = True
            del self.live[cluster.template_id]
            for alias in cluster.aliases:
                self.aliases.pop(alias, None)
            self._detach(cluster)
            self._leave_groups(cluster)

    def _leave_groups(self, cluster: _Cluster) -> None:
        for sibling_key in cluster.sibling_keys:
            entry = self._siblings.get(sibling_key)
            if entry is cluster:
                del self._siblings[sibling_key]
            elif isinstance(entry, list):
                entry[:] = [c for c in entry if c is not cluster]
                if not entry:
                    del self._siblings[sibling_key]
        cluster.sibling_keys = _NO_KEYS

    def _create(self, key: str, tokens: list[str]) -> _Cluster:
        template_id = template_id_of(key)
        suffix = 0
        while template_id in self.live or template_id in self.aliases:
            suffix += 1  # a first template seen again after its cluster generalised away
            template_id = f"{template_id_of(key)}-{suffix}"
        self._seq += 1
        cluster = _Cluster(template_id, list(tokens), self._seq)
        self.live[template_id] = cluster
        self._attach(cluster)
        return self._merge_siblings(cluster)

    def _candidates(self, tokens: list[str]) -> Iterator[_Cluster]:
        root = self._roots.get(len(tokens))
        if root is None:
            return
        frontier = [root]
        for token in tokens[: self._depth]:
            following: list[_PrefixNode] = []
            for node in frontier:
                if WILDCARD in token:
                    following.extend(node.children.values())
                    continue
                child = node.children.get(token)
                if child is not None:
                    following.append(child)
                child = node.children.get(WILDCARD)
                if child is not None:
                    following.append(child)
            frontier = following
        for node in frontier:
            yield from node.clusters

    def _attach(self, cluster: _Cluster) -> None:
        size = len(cluster.tokens)
        node = self._roots.get(size)
        if node is None:
            node = self._roots[size] = _PrefixNode()
        for token in cluster.tokens[: self._depth]:
            if WILDCARD in token or (token not in node.children and len(node.children) >= self._max_children):
                token = WILDCARD
            child = node.children.get(token)
            if child is None:
                child = node.children[token] = _PrefixNode(node, token)
            node = child
        node.clusters.append(cluster)
        cluster.leaf = node

    def _detach(self, cluster: _Cluster) -> None:
        """Take a cluster out of its leaf and prune the branches left empty."""
        node = cluster.leaf
        if node is None:
            return
        node.clusters.remove(cluster)
        cluster.leaf = None
        while not node.clusters and not node.children:
            parent = node.parent
            if parent is None:
                del self._roots[len(cluster.tokens)]
                return
            del parent.children[node.key]
            node = parent

    def _widen(self, cluster: _Cluster, tokens: list[str]) -> None:
        """Generalise a template where the message has its own wildcards."""
        changed_head = False
        for index, (have, got) in enumerate(zip(cluster.tokens, tokens, strict=True)):
            if have != got and not (WILDCARD in have and _fits(have, got)):
                cluster.tokens[index] = got if WILDCARD in got and _fits(got, have) else WILDCARD
                changed_head |= index < self._depth
        if changed_head:
            self._detach(cluster)
            self._attach(cluster)
        leaf = cluster.leaf
        twin = (
            next((c for c in leaf.clusters if c is not cluster and c.tokens == cluster.tokens), None) if leaf else None
        )
        if twin is not None:
            older, younger = (twin, cluster) if twin.seq < cluster.seq else (cluster, twin)
            self._merge(older, younger)

    def _merge(self, into: _Cluster, other: _Cluster) -> None:
        self._leave_groups(other)
        other.merged_into = into
        into.size += other.size
        into.last_used = max(into.last_used, other.last_used)
        del self.live[other.template_id]
        into.aliases.extend((other.template_id, *other.aliases))
        for alias in (other.template_id, *other.aliases):
            self.aliases[alias] = into
        other.aliases = []
        self._detach(other)

    @staticmethod
    def _is_sibling(cluster: _Cluster, tokens: list[str], index: int) -> bool:
        """Whether a live cluster still equals ``tokens`` everywhere but at a word in ``index``."""
        other = cluster.tokens
        return (
            cluster.merged_into is None
            and not cluster.evicted
            and WILDCARD not in other[index]
            and other[index][-1] != ":"
            and other[:index] == tokens[:index]
            and other[index + 1 :] == tokens[index + 1 :]
        )

    def _sibling_keys(self, tokens: list[str]) -> Iterator[tuple[int, int]]:
        """(position, key) for each word position; the key hashes everything but that position."""
        size = len(tokens)
        if size - tokens.count(WILDCARD) - 1 < max(MIN_CONTEXT_TOKENS, self._similarity * size):
            return  # too little shared context for a variable to be told from a different event
        prefix = [0] * (size + 1)
        suffix = [0] * (size + 1)
        for index, token in enumerate(tokens):
            prefix[index + 1] = hash((prefix[index], token))
        for index in range(size - 1, -1, -1):
            suffix[index] = hash((suffix[index + 1], tokens[index]))
        positions = 0
        for index, token in enumerate(tokens):
            if WILDCARD in token or token[-1] == ":":
                continue  # only plain words may turn out to be variables; "KeyError:" is a label
            yield index, hash((size, index, prefix[index], suffix[index + 1]))
            positions += 1
            if positions == MAX_SIBLING_POSITIONS:
                return

    def _join_group(self, sibling_key: int, cluster: _Cluster) -> list[_Cluster] | None:
        """Add a cluster to a sibling group; the group once it has two or more members."""
        entry = self._siblings.get(sibling_key)
        if entry is None:
            self._siblings[sibling_key] = cluster  # most groups stay single: no list for them
            return None
        if isinstance(entry, list):
            entry.append(cluster)
            return entry
        group = self._siblings[sibling_key] = [entry, cluster]
        return group

    def _merge_siblings(self, cluster: _Cluster) -> _Cluster:
        """Register a new cluster's one-position variants; merge once ``merge_after`` exist."""
        tokens = cluster.tokens
        keys = array("q")
        for index, sibling_key in self._sibling_keys(tokens):
            keys.append(sibling_key)
            cluster.sibling_keys = keys
            group = self._join_group(sibling_key, cluster)
            if group is None or len(group) < self._merge_after:
                continue
            group[:] = [c for c in group if self._is_sibling(c, tokens, index)]
            if len({c.tokens[index] for c in group}) < self._merge_after:
                continue
            head = min(group, key=lambda c: c.seq)
            for other in list(group):
                if other is not head:
                    self._merge(head, other)  # also takes ``other`` out of this group
            head.tokens[index] = WILDCARD
            if index < self._depth:
                self._detach(head)
                self._attach(head)
            return head
        return cluster


class TemplateMiner:
    """Online miner: ``add`` returns the template id a message belongs to.

    ``similarity``: share of a message's positions that must equal a cluster's constants for it
    to join through wildcards (and for a template to be generalised at all). ``depth``: leading
    tokens that key the tree below the token-count level (Drain's depth minus two).
    ``max_children``: fan-out of a tree node before further tokens share its ``<*>`` branch,
    which every lookup scans. ``max_clusters``: live clusters kept (None: unbounded).
    ``merge_after``: distinct words one position takes before it becomes a variable.
    One configuration (the defaults) serves all Loghub datasets: see
    ``benchmarks/loghub_grouping.py``.
    """

    def __init__(
        self,
        *,
        similarity: float = 0.5,
        depth: int = 2,
        max_children: int = 1_000,
        max_clusters: int | None = 10_000,
        merge_after: int = 4,
    ) -> None:
        if not 0.0 <= similarity <= 1.0:
            raise ValueError("similarity must be within [0, 1]")
        if depth < 0 or max_children < 1 or merge_after < 2:
            raise ValueError("depth >= 0, max_children >= 1 and merge_after >= 2 are required")
        if max_clusters is not None and max_clusters < 1:
            raise ValueError("max_clusters must be positive or None")
        self._max_clusters = max_clusters
        self._masker = Masker()
        self._tree = _Tree(similarity=similarity, depth=depth, max_children=max_children, merge_after=merge_after)
        self._by_message: dict[str, _Cluster] = {}
        self._by_shape: dict[str, _Cluster] = {}
        self._by_key: dict[str, _Cluster] = {}
        self._tick = 0

    def __len__(self) -> int:
        """Live clusters (merged and evicted ones excluded)."""
        return len(self._tree.live)

    def add(self, message: str) -> str:
        """Put ``message`` in its cluster (creating or generalising one) and return the id."""
        self._tick += 1
        cluster = self._by_message.get(message)
        if cluster is not None:
            while cluster.merged_into is not None:
                cluster = cluster.merged_into
        if cluster is None or cluster.evicted:
            cluster = self._learn(message)
            if len(message) <= _CACHED_MAX_CHARS:
                if len(self._by_message) >= _CACHE_SIZE:
                    trim_cache(self._by_message, _CACHE_SIZE)
                self._by_message[message] = cluster
        cluster.size += 1
        cluster.last_used = self._tick
        return cluster.template_id

    def match(self, message: str) -> str | None:
        """The id of the existing cluster ``message`` would join (None if it would start one); learns nothing."""
        canonical = self._tree.canonical
        cluster = canonical(self._by_message.get(message))
        if cluster is None:
            shape = self._masker.shape(message)
            cluster = canonical(self._by_shape.get(shape))
            if cluster is None:
                key, tokens = self._masker.mask_shape(shape, message)
                cluster = canonical(self._by_key.get(key))
                if cluster is None:
                    found = self._tree.find(tokens)
                    cluster = found[0] if found is not None else None
        return cluster.template_id if cluster is not None else None

    def template(self, template_id: str) -> str:
        """Current template text of a cluster (or of the cluster an old id merged into)."""
        return " ".join(self._tree.lookup(template_id).tokens)

    def resolve(self, template_id: str) -> str:
        """The surviving id for ``template_id`` after merges; KeyError once evicted."""
        return self._tree.lookup(template_id).template_id

    def count(self, template_id: str) -> int:
        """How many added messages the (resolved) cluster holds."""
        return self._tree.lookup(template_id).size

    def templates(self) -> Iterator[tuple[str, str, int]]:
        """Live clusters as (template id, template text, count), oldest first."""
        for cluster in self._tree.live.values():
            yield cluster.template_id, " ".join(cluster.tokens), cluster.size

    def _learn(self, message: str) -> _Cluster:
        """The live cluster of a message not in the message cache, via the shape and key caches."""
        shape = self._masker.shape(message)
        cluster = self._by_shape.get(shape)
        if cluster is not None and cluster.merged_into is None and not cluster.evicted:
            return cluster
        cluster = self._tree.canonical(cluster)
        if cluster is not None:
            return cluster
        key, tokens = self._masker.mask_shape(shape, message)
        cluster = self._tree.canonical(self._by_key.get(key))
        if cluster is None:
            if self._max_clusters is not None and len(self._tree.live) >= self._max_clusters:
                self._tree.evict(max(1, int(self._max_clusters * EVICT_FRACTION)))
            cluster = self._tree.add(key, tokens)
            if len(key) <= _CACHED_MAX_CHARS:
                if len(self._by_key) >= _CACHE_SIZE:
                    trim_cache(self._by_key, _CACHE_SIZE)
                self._by_key[key] = cluster
        if len(shape) <= _CACHED_MAX_CHARS and not keeps_digits(key):  # else the key is not the shape's alone
            if len(self._by_shape) >= _CACHE_SIZE:
                trim_cache(self._by_shape, _CACHE_SIZE)
            self._by_shape[shape] = cluster
        return cluster
