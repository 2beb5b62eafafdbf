"""Redacting a decoded JSON payload by key name, at any depth, before it becomes text."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.redaction.payload import MAX_DEPTH, redact_json
from functions.redaction.redact import marker

PW = marker("password_pair")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"password": "hunter2", "user": "app"}, {"password": PW, "user": "app"}),
        ({"db": {"conn": {"DB_PASSWORD": "hunter2"}}}, {"db": {"conn": {"DB_PASSWORD": PW}}}),
        # k8s env dumps: the secret sits under "value", named by "name"
        ({"env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "debug"}]},
         {"env": [{"name": "DB_PASSWORD", "value": PW}, {"name": "LOG_LEVEL", "value": "debug"}]}),
        ({"Key": "api_key", "Value": "abc"}, {"Key": "api_key", "Value": PW}),
        ({"password": {"value": "hunter2"}}, {"password": {"value": PW}}),
        ({"api_key": ["k1", "k2"], "token": "expired"}, {"api_key": [PW, PW], "token": "expired"}),
        ({"password": 123456}, {"password": PW}),
        ({"headers": {"Authorization": "Token abcdef123456", "x-request-id": "req-42"}},
         {"headers": {"Authorization": f"Token {marker('authorization')}", "x-request-id": "req-42"}}),
        ({"name": "Authorization", "value": "Bearer abc"},
         {"name": "Authorization", "value": f"Bearer {marker('authorization')}"}),
        ({"set-cookie": ["sid=abcDEF123; Path=/; HttpOnly", "theme=dark"]},
         {"set-cookie": [f"sid={marker('cookie')}; Path=/; HttpOnly", f"theme={marker('cookie')}"]}),
        # other strings go through the text rules
        ({"message": "login with password=hunter2 failed"},
         {"message": f"login with password={PW} failed"}),
        # what stays: cursors, placeholders, working directories, non-secret names
        ({"nextPageToken": "CiAKGjBp", "password": "${DB_PASSWORD}", "PWD": "/workspace", "token_type": "bearer"},
         {"nextPageToken": "CiAKGjBp", "password": "${DB_PASSWORD}", "PWD": "/workspace", "token_type": "bearer"}),
        ({"password": None, "api_key": True, "count": 3}, {"password": None, "api_key": True, "count": 3}),
    ],
)  # fmt: skip
def test_values_under_secret_names_are_hidden_and_the_rest_kept(payload: object, expected: object) -> None:
    assert redact_json(payload) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["name", "value", "password", "token", "msg", "Key"]), children, max_size=4
            )
        ),
        max_leaves=20,
    )
)
def test_the_input_is_never_changed_and_the_shape_is_kept(payload: object) -> None:
    snapshot = copy.deepcopy(payload)
    redacted = redact_json(payload)
    assert payload == snapshot
    assert type(redacted) is type(payload)
    json.dumps(redacted)  # still JSON


def test_a_payload_nested_deeper_than_the_limit_is_cut_not_walked() -> None:
    deep: object = "x"
    for _ in range(MAX_DEPTH + 50):
        deep = [deep]
    flat = json.dumps(redact_json(deep))
    assert marker("generic_secret") in flat
    assert flat.replace(marker("generic_secret"), "").count("[") == MAX_DEPTH + 1  # depths 0..MAX_DEPTH kept
