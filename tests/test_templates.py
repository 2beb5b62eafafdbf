"""Template miner: variable parts are masked, same-shape messages share a stable id, memory stays bounded."""

from __future__ import annotations

import re
import string

import pytest

from benchmarks._loghub import DATASETS, classify_template_ids, grouping_accuracy, load_dataset, loghub_root
from functions.analysis.templates.miner import TemplateMiner, mask_message, normalise_message, template_id_of

TRACEBACK = """Traceback (most recent call last):
  File "/app/{module}.py", line {line}, in {function}
    {code}
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column {column} (char {char})"""


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("worker pid 4242 exited with status 137", "worker pid <*> exited with status <*>"),
        ("pointer 0x7ffd5e8c freed", "pointer <*> freed"),
        ("commit deadbeefcafe1234 deployed", "commit <*> deployed"),
        ("request 123e4567-e89b-12d3-a456-426614174000 failed", "request <*> failed"),
        ("connect to 10.0.0.1:5432 failed", "connect to <*> failed"),
        ("upstream 2001:db8::1 unreachable", "upstream <*> unreachable"),
        ("connection from db-1.internal.example.com closed", "connection from <*> closed"),
        ("open /var/lib/app/data.db: permission denied", "open <*>: permission denied"),
        ("C:\\Users\\bob\\report.txt missing", "<*> missing"),
        ("GET https://api.example.com/v1/users?id=3 returned 503", "GET <*> returned <*>"),
        ("mail to alice@example.com bounced", "mail to <*> bounced"),
        ("KeyError: 'user_id'", "KeyError: <*>"),
        ('relation "users" does not exist', "relation <*> does not exist"),
        ("Took 15s to connect", "Took <*> to connect"),
        ("latency 250ms over budget", "latency <*> over budget"),
        ("Memory limit of 512 MiB exceeded with 530 MiB used", "Memory limit of <*> exceeded with <*> used"),
        ("Sent 1190 bytes (1.16 KB) to peer", "Sent <*> to peer"),
        ("retry attempt=3 backoff=1.5s host=db.prod", "retry attempt=<*> backoff=<*> host=<*>"),
        ("cache enabled=true", "cache enabled=<*>"),
        ("login at Fri Jun 17 07:07:00 2005 ok", "login at <*> ok"),
    ],
)
def test_variable_parts_are_masked(message: str, masked: str) -> None:
    assert mask_message(message) == masked


@pytest.mark.parametrize(
    "message",
    [
        "cache mode=fast",  # a plain-word value may be the event itself; the sibling rule decides
        "Connection reset by peer",
        "VM Started (Lifecycle Event)",
    ],
)
def test_constant_text_is_kept(message: str) -> None:
    assert mask_message(message) == message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Connection to 10.0.0.1:5432 refused", "Connection to 10.0.0.7:6543 refused"),
        ("Deadline exceeded after 30s for /api/orders", "Deadline exceeded after 5s for /api/users/42"),
        ("sent 0 bytes in 3ms", "sent 1190 bytes (1.16 KB) in 12ms"),  # a unit-qualified size is one value
        (
            "connection from 1.2.3.4 () at Fri Jul  1 07:57:30 2005",
            "connection from 5.6.7.8 (h.example.net) at Sat Jun 18 02:08:11 2005",
        ),
        ("acquire lock name=android, uid=1000", "acquire lock name=com.android.phone, uid=1001"),
        ("Invalid user webmaster from 173.234.31.186", "Invalid user test9 from 52.80.34.196"),
        (
            TRACEBACK.format(
                module="api", line=10, function="handler", code="body = json.loads(raw)", column=1, char=0
            ),
            TRACEBACK.format(module="jobs", line=77, function="run", code="return decode(payload)", column=5, char=4),
        ),
    ],
)
def test_same_shape_lines_group(first: str, second: str) -> None:
    miner = TemplateMiner()
    first_id = miner.add(first)
    assert miner.resolve(miner.add(second)) == miner.resolve(first_id)
    assert len(miner) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("VM Started (Lifecycle Event)", "VM Stopped (Lifecycle Event)"),
        ("Connection reset by peer", "Connection refused by peer"),
        ("Failed to connect to 10.0.0.1:5432", "Failed to connect to database at 10.0.0.1:5432"),
        ("running", "blocked"),  # single words never merge
        ("onStandStepChanged 3579", "isScreenOn 1"),  # one constant is too little context to share a wildcard
        (
            "Traceback (most recent call last):\n  File x\nKeyError: 'a'",
            "Traceback (most recent call last):\nValueError: 'a'",
        ),
    ],
)
def test_different_shapes_stay_apart(first: str, second: str) -> None:
    miner = TemplateMiner()
    assert miner.add(first) != miner.add(second)
    assert len(miner) == 2


def test_a_position_that_keeps_taking_new_words_becomes_a_variable() -> None:
    miner = TemplateMiner(merge_after=4)
    ids = [miner.add(f"session opened for user {name} by (uid=0)") for name in ("cyrus", "news", "test")]
    assert len(set(ids)) == 3  # three values could still be three events
    last = miner.add("session opened for user root by (uid=0)")
    assert len(miner) == 1
    assert {miner.resolve(i) for i in ids} == {last} == {ids[0]}  # the oldest id survives
    assert miner.template(ids[1]) == "session opened for user <*> by (uid=<*>)"
    assert miner.count(last) == 4


def test_a_message_with_a_variable_generalises_a_cluster() -> None:
    miner = TemplateMiner()
    first = miner.add("Invalid user webmaster from 173.234.31.186")
    assert miner.add("Invalid user test9 from 52.80.34.196") == first
    assert miner.template(first) == "Invalid user <*> from <*>"


def test_template_id_is_a_digest_of_the_first_masked_template() -> None:
    miner = TemplateMiner()
    first = miner.add("Invalid user webmaster from 173.234.31.186")
    miner.add("Invalid user test9 from 52.80.34.196")  # generalises the template, keeps the id
    assert first == template_id_of("Invalid user webmaster from <*>")
    assert re.fullmatch(r"[0-9a-f]{12}", first)


def test_template_ids_do_not_change_between_releases() -> None:
    """Ids are stored in the incident ledger; changing the digest would mark every template new."""
    assert template_id_of("Invalid user webmaster from <*>") == "926eab0446e6"


def _corpus() -> list[str]:
    lines = []
    for i in range(300):
        lines.append(f"Connection to 10.0.{i % 7}.{i}:5432 refused after {i}ms")
        lines.append(f"session opened for user {('alice', 'bob', 'carol', 'dave', 'erin')[i % 5]} by (uid={i})")
        lines.append(f"VM {('Started', 'Stopped', 'Paused')[i % 3]} (Lifecycle Event) instance {i:08x}-aaaa")
        lines.append(TRACEBACK.format(module=f"m{i % 4}", line=i, function="f", code="x()", column=i, char=i))
    return lines


def test_replaying_the_same_lines_adds_no_clusters_and_returns_the_same_ids() -> None:
    miner = TemplateMiner()
    lines = _corpus()
    first = [miner.add(line) for line in lines]
    clusters = len(miner)
    resolved = [miner.resolve(i) for i in first]
    for _ in range(10):
        assert [miner.add(line) for line in lines] == resolved
    assert len(miner) == clusters


def test_a_fresh_miner_fed_the_same_lines_gives_the_same_ids() -> None:
    lines = _corpus()
    one, two = TemplateMiner(), TemplateMiner()
    assert [one.add(line) for line in lines] == [two.add(line) for line in lines]
    assert sorted(one.templates()) == sorted(two.templates())


def test_match_finds_the_cluster_without_learning() -> None:
    miner = TemplateMiner()
    known = miner.add("Connection to 10.0.0.1:5432 refused")
    assert miner.match("Connection to 10.9.9.9:6543 refused") == known
    assert miner.match("Disk quota exceeded on volume data") is None
    assert len(miner) == 1
    assert miner.count(known) == 1


def _word(n: int) -> str:
    letters = string.ascii_lowercase
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += letters[r]
        if not n:
            return out + "q"


def test_cluster_count_stays_under_max_clusters() -> None:
    miner = TemplateMiner(max_clusters=50)
    ids = [miner.add(f"{_word(i)} {_word(i + 7)} {_word(i + 13)} happened") for i in range(2_000)]
    assert len(miner) <= 50
    assert miner.template(ids[-1]) == f"{_word(1_999)} {_word(2_006)} {_word(2_012)} happened"
    with pytest.raises(KeyError):
        miner.template(ids[0])  # evicted long ago


def test_recently_used_clusters_survive_eviction() -> None:
    miner = TemplateMiner(max_clusters=20)
    hot = miner.add("Connection to 10.0.0.1:5432 refused")
    for i in range(500):
        miner.add(f"{_word(i)} {_word(i + 3)} {_word(i + 5)} happened")
        assert miner.add(f"Connection to 10.0.0.{i % 250}:5432 refused") == hot


@pytest.mark.parametrize(
    ("message", "normalised"),
    [
        ("one line", "one line"),
        ("first line\n  detail\n  more detail", "first line"),
        (
            'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: bad',
            "Traceback (most recent call last): | ValueError: bad",
        ),
        (
            "Exception on /orders [POST]\nTraceback (most recent call last):\n  File \"a.py\"\nKeyError: 'id'",
            "Exception on /orders [POST] | KeyError: 'id'",
        ),
        (
            "java.lang.RuntimeException: boom\n\tat a.B(B.java:1)\n"
            "Caused by: java.io.IOException: disk\n\tat c.D(D.java:2)",
            "java.lang.RuntimeException: boom | Caused by: java.io.IOException: disk",
        ),
    ],
)
def test_multi_line_messages_keep_their_first_line_and_final_exception(message: str, normalised: str) -> None:
    assert normalise_message(message) == normalised


def test_one_configuration_groups_loghub_well() -> None:
    """Regression floor for the Loghub benchmark (measured 0.976 average GA; under a second)."""
    if not loghub_root().is_dir():
        pytest.skip(f"Loghub data not found at {loghub_root()}")
    scores = []
    for name in DATASETS:
        dataset = load_dataset(name)
        miner = TemplateMiner()
        ids = [miner.add(line) for line in dataset.contents]
        scores.append(grouping_accuracy(dataset.event_ids, [miner.resolve(i) for i in ids]))
    assert sum(scores) / len(scores) >= 0.95
    assert min(scores) >= 0.85


def test_classify_prints_template_ids_that_group_loghub_well() -> None:
    """Floor for the ids `python main.py classify` streams (measured 0.948 average GA before
    failure names were kept, and after): earlier lines keep the id their cluster had then."""
    if not loghub_root().is_dir():
        pytest.skip(f"Loghub data not found at {loghub_root()}")
    scores = []
    for name in DATASETS:
        dataset = load_dataset(name)
        scores.append(grouping_accuracy(dataset.event_ids, classify_template_ids(dataset.contents, name)))
    assert round(sum(scores) / len(scores), 3) >= 0.948


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    [
        ("aabb", "xxyy", 1.0),
        ("aabb", "xxxx", 0.0),  # one cluster for two groups: nothing is right
        ("aabb", "xyzz", 0.5),  # group a split in two: only b is right
        ("aabc", "xxyy", 0.5),
    ],
)
def test_grouping_accuracy_counts_only_exact_groups(truth: str, predicted: str, expected: float) -> None:
    assert grouping_accuracy(list(truth), list(predicted)) == expected


def test_a_number_in_a_call_is_masked_but_the_call_stays_readable() -> None:
    miner = TemplateMiner()
    first = miner.add("Container called exit(3).")
    assert miner.add("Container called exit(137).") == first
    assert miner.template(first) == "Container called exit(<*>)."
