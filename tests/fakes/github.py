"""GitHub REST v3 (issues, comments, labels) on loopback, for PyGithub tests.

``Github(base_url=fake.base_url, auth=Auth.Token(TOKEN), retry=None,
seconds_between_requests=None, seconds_between_writes=None)`` works against it;
PyGithub's defaults otherwise sleep 0.25 s per request and 1 s per write.
Errors are GitHub's JSON (``message``, ``errors``, ``documentation_url``, ``status``);
every answer carries ``x-ratelimit-*`` headers. Endpoint names for ``fail_next``
are GitHub's operation ids (``"issues/create"``, ``"issues/update"`` ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlencode

from tests.fakes import FakeHTTPServer, RecordedRequest, Response

TOKEN = "ghp_fakeTokenForTests0000000000000000"
REPOSITORY = "acme/shop"
LOGIN = "sitrep-bot"

# Limits from GitHub's REST docs (GitHub's REST API reference).
MAX_BODY_CHARS = 65_536
MAX_TITLE_CHARS = 256
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
RATE_LIMIT = 5000
RATE_LIMIT_RESET_EPOCH = 1_700_003_600
STATE_REASONS = frozenset({"completed", "not_planned", "reopened", "duplicate"})
DOCS = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID FAKE:0000:0000."
)

_ROUTES: list[tuple[str, str, str]] = [  # (method, path regex, operation id)
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)", "repos/get"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues", "issues/list-for-repo"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues", "issues/create"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)", "issues/get-comment"),
    ("PATCH", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)", "issues/update-comment"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)", "issues/get"),
    ("PATCH", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)", "issues/update"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments", "issues/list-comments"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments", "issues/create-comment"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels", "issues/list-labels-on-issue"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels", "issues/add-labels"),
    ("PUT", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels", "issues/set-labels"),
    ("DELETE", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels/(?P<name>[^/]+)", "issues/remove-label"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/labels", "issues/list-labels-for-repo"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/labels", "issues/create-label"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/labels/(?P<name>[^/]+)", "issues/get-label"),
    ("GET", r"/rate_limit", "rate-limit/get"),
    ("GET", r"/user", "users/get-authenticated"),
]
_COMPILED = [(m, re.compile(f"^{p}/?$"), op) for m, p, op in _ROUTES]


_Result = tuple[int, Any, dict[str, str]]  # status, JSON payload, extra headers


class GitHubError(Exception):
    """Raised inside the fake to answer with GitHub's error JSON."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _missing(resource: str, field_name: str) -> GitHubError:
    return GitHubError(422, "Validation Failed", [{"resource": resource, "code": "missing_field", "field": field_name}])


def _invalid(resource: str, field_name: str, message: str | None = None) -> GitHubError:
    error: dict[str, Any] = {
        "resource": resource,
        "code": "invalid" if message is None else "custom",
        "field": field_name,
    }
    if message is not None:
        error["message"] = message
    return GitHubError(422, "Validation Failed", [error])


@dataclass
class _Repo:
    owner: str
    name: str
    id: int
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased name -> label


def _ticking_clock(start: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> Callable[[], datetime]:
    """A clock that advances one second per call: timestamps are deterministic."""
    state = {"t": start}

    def now() -> datetime:
        state["t"] += timedelta(seconds=1)
        return state["t"]

    return now


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class GitHubFake(FakeHTTPServer):
    """GitHub REST on loopback: repositories hold issues (and one pull request), comments, labels."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (TOKEN,),
        repos: Iterable[str] = (REPOSITORY,),
        login: str = LOGIN,
        with_pull_request: bool = True,
        clock: Callable[[], datetime] | None = None,
        path_prefix: str = "",
    ) -> None:
        """``with_pull_request`` seeds #1 as a pull request (the issues list returns PRs too);
        ``path_prefix="/api/v3"`` mimics GitHub Enterprise."""
        super().__init__()
        self.tokens = set(tokens)
        self.login = login
        self.path_prefix = path_prefix.rstrip("/")
        self._now = clock or _ticking_clock()
        self._next_id = 1000
        self._rate_used = 0
        self._repos: dict[str, _Repo] = {}
        for full_name in repos:
            self.add_repo(full_name, with_pull_request=with_pull_request)

    @property
    def base_url(self) -> str:
        """What ``Github(base_url=...)`` wants."""
        return f"{self.url}{self.path_prefix}"

    # state for tests -----------------------------------------------------------
    def add_repo(self, full_name: str, *, with_pull_request: bool = True) -> None:
        """Create an empty repository (optionally with pull request #1)."""
        owner, name = full_name.split("/")
        with self._lock:
            repo = _Repo(owner, name, self._new_id())
            self._repos[full_name.lower()] = repo
            if with_pull_request:
                pr = self._new_issue(repo, "Bump dependencies", "A pull request, not an issue.", [])
                pr["_is_pr"] = True

    def create_issue(
        self, repo: str = REPOSITORY, *, title: str, body: str | None = None,
        labels: Iterable[str] = (), state: str = "open", state_reason: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Seed an issue directly (no request recorded); returns its JSON."""
        with self._lock:
            r = self._repos[repo.lower()]
            issue = self._new_issue(r, title, body, list(labels))
            if state == "closed":
                issue.update(state="closed", state_reason=state_reason or "completed", closed_at=issue["updated_at"])
            return self._render_issue(issue)

    def issues(self, repo: str = REPOSITORY, *, include_pull_requests: bool = False) -> list[dict[str, Any]]:
        """Issues by number, as the API renders them."""
        with self._lock:
            items = self._repos[repo.lower()].issues.values()
            return [self._render_issue(i) for i in items if include_pull_requests or not i["_is_pr"]]

    def issue(self, number: int, repo: str = REPOSITORY) -> dict[str, Any]:
        """One issue as the API renders it."""
        with self._lock:
            return self._render_issue(self._repos[repo.lower()].issues[number])

    def comments(self, number: int, repo: str = REPOSITORY) -> list[dict[str, Any]]:
        """Comments on issue ``number``, oldest first, as the API renders them."""
        with self._lock:
            r = self._repos[repo.lower()]
            return [self._render_comment(r, c) for c in r.comments.values() if c["_issue"] == number]

    def labels(self, repo: str = REPOSITORY) -> list[dict[str, Any]]:
        """Repository labels, as the API renders them."""
        with self._lock:
            r = self._repos[repo.lower()]
            return [self._render_label(r, lb) for lb in r.labels.values()]

    # faults --------------------------------------------------------------------
    def secondary_rate_limit_next(
        self, operation: str, *, retry_after_seconds: int | None = 60, times: int = 1
    ) -> None:
        """403 with GitHub's secondary-rate-limit message (and ``retry-after`` unless None)."""
        headers = {} if retry_after_seconds is None else {"retry-after": str(retry_after_seconds)}
        body = {
            "message": SECONDARY_RATE_LIMIT_MESSAGE,
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403",
        }
        self.fail_next(operation, status=403, headers=headers, body=body, times=times)

    def primary_rate_limit_next(self, operation: str, *, times: int = 1) -> None:
        """403 ``API rate limit exceeded`` with ``x-ratelimit-remaining: 0``."""
        body = {
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api#about-primary-rate-limits",
            "status": "403",
        }
        self.fail_next(operation, status=403, headers={"x-ratelimit-remaining": "0"}, body=body, times=times)

    def _fault_response(self, status: int) -> Response:
        messages = {403: "Forbidden", 404: "Not Found", 429: "API rate limit exceeded", 503: "Service Unavailable"}
        body = {"message": messages.get(status, "Server Error"), "documentation_url": DOCS, "status": str(status)}
        # A scripted 429 says when to come back; 1 s keeps retrying clients fast (override with headers=).
        return Response.json(status, body, {"retry-after": "1"} if status == 429 else None)

    def _decorate(self, request: RecordedRequest, response: Response) -> Response:
        with self._lock:
            self._rate_used += 1
            used = self._rate_used
        headers = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(RATE_LIMIT_RESET_EPOCH),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": f"FAKE:{used:08d}",
            **response.headers,
        }
        return Response(response.status, response.body, headers, response.drop_connection)

    # dispatch --------------------------------------------------------------------
    def _route(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        if self.path_prefix and path.startswith(self.path_prefix):
            path = path[len(self.path_prefix) :]
        for route_method, pattern, operation in _COMPILED:
            match = pattern.match(path)
            if match and route_method == method:
                return operation, {k: unquote(v) for k, v in match.groupdict().items()}
        return f"{method} {path}", {}

    def _endpoint(self, method: str, path: str) -> str:
        return self._route(method, path)[0]

    def _handle(self, request: RecordedRequest) -> Response:
        try:
            auth = request.header("authorization") or ""
            scheme, _, token = auth.partition(" ")
            if not token:
                raise GitHubError(401, "Requires authentication")
            if scheme.lower() not in ("token", "bearer") or token not in self.tokens:
                raise GitHubError(401, "Bad credentials")
            operation, params = self._route(request.method, request.path)
            handler = self._operations().get(operation)
            if handler is None:
                raise GitHubError(404, "Not Found")
            if request.method in ("POST", "PATCH", "PUT") and request.raw_body and request.body is None:
                raise GitHubError(400, "Problems parsing JSON")
            with self._lock:
                status, payload, headers = handler(request, params)
            return Response.json(status, payload, headers)
        except GitHubError as err:
            body: dict[str, Any] = {"message": err.message}
            if err.errors:
                body["errors"] = err.errors
            body.update(documentation_url=DOCS, status=str(err.status))
            return Response.json(err.status, body)

    # rendering (URLs are built per response: the port is known only once started) ---
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _repo_url(self, repo: _Repo) -> str:
        return f"{self.base_url}/repos/{repo.owner}/{repo.name}"

    def _html_url(self, repo: _Repo) -> str:
        return f"{self.url}/{repo.owner}/{repo.name}"

    def _user(self) -> dict[str, Any]:
        return {"login": self.login, "id": 1, "node_id": "U_fake1", "type": "Bot", "site_admin": False,
                "url": f"{self.base_url}/users/{self.login}", "html_url": f"{self.url}/{self.login}"}  # fmt: skip

    def _repo_json(self, repo: _Repo) -> dict[str, Any]:
        url = self._repo_url(repo)
        return {
            "id": repo.id, "node_id": f"R_fake{repo.id}", "name": repo.name,
            "full_name": f"{repo.owner}/{repo.name}", "private": True, "html_url": self._html_url(repo),
            "owner": {"login": repo.owner, "id": 2, "type": "Organization",
                      "url": f"{self.base_url}/users/{repo.owner}"},
            "url": url, "issues_url": f"{url}/issues{{/number}}", "labels_url": f"{url}/labels{{/name}}",
            "issue_comment_url": f"{url}/issues/comments{{/number}}", "default_branch": "main",
            "has_issues": True, "archived": False,
            "open_issues_count": sum(i["state"] == "open" for i in repo.issues.values()),
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }  # fmt: skip

    def _label(self, repo: _Repo, name: str, color: str = "ededed", description: str | None = None) -> dict[str, Any]:
        """The label called ``name`` (any case), created if missing as GitHub does on add."""
        existing = repo.labels.get(name.lower())
        if existing is not None:
            return existing
        label = {"id": self._new_id(), "name": name, "color": color, "description": description}
        repo.labels[name.lower()] = label
        return label

    def _render_label(self, repo: _Repo, label: Mapping[str, Any]) -> dict[str, Any]:
        return {**label, "node_id": f"LA_fake{label['id']}", "default": False,
                "url": f"{self._repo_url(repo)}/labels/{quote(label['name'])}"}  # fmt: skip

    def _new_issue(self, repo: _Repo, title: str, body: str | None, labels: list[str]) -> dict[str, Any]:
        number, now = len(repo.issues) + 1, self._now()
        issue = {
            "id": self._new_id(), "number": number, "title": title, "body": body, "state": "open",
            "state_reason": None, "comments": 0, "created_at": now, "updated_at": now, "closed_at": None,
            "_labels": [self._label(repo, n)["name"] for n in labels], "_repo": repo, "_is_pr": False,
        }  # fmt: skip
        repo.issues[number] = issue
        return issue

    def _render_issue(self, issue: Mapping[str, Any]) -> dict[str, Any]:
        repo: _Repo = issue["_repo"]
        url, html = f"{self._repo_url(repo)}/issues/{issue['number']}", self._html_url(repo)
        out = {k: v for k, v in issue.items() if not k.startswith("_")}
        out.update(
            node_id=f"I_fake{issue['id']}", url=url, repository_url=self._repo_url(repo),
            labels_url=f"{url}/labels{{/name}}", comments_url=f"{url}/comments", events_url=f"{url}/events",
            html_url=f"{html}/issues/{issue['number']}", user=self._user(), locked=False, assignee=None,
            assignees=[{"login": a, "type": "User"} for a in issue.get("_assignees", [])], milestone=None,
            author_association="NONE", active_lock_reason=None,
            closed_by=self._user() if issue["state"] == "closed" else None,
            labels=[self._render_label(repo, repo.labels[n.lower()]) for n in issue["_labels"]],
            created_at=_iso(issue["created_at"]), updated_at=_iso(issue["updated_at"]),
            closed_at=_iso(issue["closed_at"]),
        )  # fmt: skip
        if issue["_is_pr"]:
            n = issue["number"]
            out["pull_request"] = {
                "url": f"{self._repo_url(repo)}/pulls/{n}", "html_url": f"{html}/pull/{n}",
                "diff_url": f"{html}/pull/{n}.diff", "patch_url": f"{html}/pull/{n}.patch", "merged_at": None,
            }  # fmt: skip
        return out

    def _render_comment(self, repo: _Repo, comment: Mapping[str, Any]) -> dict[str, Any]:
        issue_url = f"{self._repo_url(repo)}/issues/{comment['_issue']}"
        html = f"{self._html_url(repo)}/issues/{comment['_issue']}#issuecomment-{comment['id']}"
        return {
            "id": comment["id"], "node_id": f"IC_fake{comment['id']}", "body": comment["body"],
            "url": f"{self._repo_url(repo)}/issues/comments/{comment['id']}", "html_url": html,
            "issue_url": issue_url, "user": self._user(), "author_association": "NONE",
            "created_at": _iso(comment["created_at"]), "updated_at": _iso(comment["updated_at"]),
        }  # fmt: skip

    @staticmethod
    def _label_names(labels: Any) -> list[str]:
        if not isinstance(labels, list):
            raise _invalid("Issue", "labels")
        return [item["name"] if isinstance(item, dict) else str(item) for item in labels]

    def _repo(self, params: Mapping[str, str]) -> _Repo:
        repo = self._repos.get(params["repo"].lower())
        if repo is None:
            raise GitHubError(404, "Not Found")
        return repo

    def _issue(self, repo: _Repo, params: Mapping[str, str]) -> dict[str, Any]:
        issue = repo.issues.get(int(params["n"]))
        if issue is None:
            raise GitHubError(404, "Not Found")
        return issue

    def _page(
        self, request: RecordedRequest, items: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Slice ``items`` by ``per_page``/``page`` and build the ``Link`` header."""
        per_page = min(int(request.query.get("per_page") or DEFAULT_PER_PAGE), MAX_PER_PAGE)
        page = max(int(request.query.get("page") or 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)

        def link(n: int) -> str:
            return f"<{self.url}{request.path}?{urlencode({**request.query, 'per_page': per_page, 'page': n})}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        return items[(page - 1) * per_page : page * per_page], ({"Link": ", ".join(rels)} if rels else {})

    @staticmethod
    def _check_body(resource: str, body: Any) -> None:
        if body is not None and not isinstance(body, str):
            raise _invalid(resource, "body")
        if body is not None and len(body) > MAX_BODY_CHARS:
            raise _invalid(resource, "body", f"body is too long (maximum is {MAX_BODY_CHARS} characters)")

    # operations (each returns status, payload, extra headers) ----------------------
    def _operations(self) -> dict[str, Callable[[RecordedRequest, Mapping[str, str]], _Result]]:
        return {
            "repos/get": self._op_get_repo,
            "issues/list-for-repo": self._op_list_for_repo,
            "issues/create": self._op_create,
            "issues/get": self._op_get_issue,
            "issues/update": self._op_update,
            "issues/list-comments": self._op_list_comments,
            "issues/create-comment": self._op_create_comment,
            "issues/get-comment": self._op_get_comment,
            "issues/update-comment": self._op_update_comment,
            "issues/list-labels-on-issue": self._op_list_labels_on_issue,
            "issues/add-labels": self._op_add_labels,
            "issues/set-labels": self._op_set_labels,
            "issues/remove-label": self._op_remove_label,
            "issues/list-labels-for-repo": self._op_list_labels_for_repo,
            "issues/create-label": self._op_create_label,
            "issues/get-label": self._op_get_label,
            "rate-limit/get": self._op_rate_limit,
            "users/get-authenticated": self._op_get_authenticated,
        }

    def _op_get_authenticated(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        return 200, self._user(), {}

    def _op_get_repo(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        return 200, self._repo_json(self._repo(params)), {}

    def _op_get_issue(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        return 200, self._render_issue(self._issue(repo, params)), {}

    def _op_rate_limit(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        core = {
            "limit": RATE_LIMIT,
            "remaining": RATE_LIMIT - self._rate_used,
            "used": self._rate_used,
            "reset": RATE_LIMIT_RESET_EPOCH,
        }
        return 200, {"resources": {"core": core}, "rate": core}, {}

    def _op_list_for_repo(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        q = request.query
        state = q.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _invalid("Issue", "state")
        wanted = {n.strip().lower() for n in q.get("labels", "").split(",") if n.strip()}
        since = datetime.fromisoformat(q["since"].replace("Z", "+00:00")) if q.get("since") else None
        items = [
            i for i in repo.issues.values()
            if (state == "all" or i["state"] == state) and wanted <= {n.lower() for n in i["_labels"]}
            and (since is None or i["updated_at"] >= since)
        ]  # fmt: skip
        sort_key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}.get(
            q.get("sort", "created"), "created_at"
        )
        items.sort(key=lambda i: (i[sort_key], i["number"]), reverse=q.get("direction", "desc") != "asc")
        page, headers = self._page(request, [self._render_issue(i) for i in items])
        return 200, page, headers

    def _op_create(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        body = request.body if isinstance(request.body, dict) else {}
        title = body.get("title")
        if title is None or (isinstance(title, str) and not title.strip()):
            raise _missing("Issue", "title")
        if not isinstance(title, str) or len(title) > MAX_TITLE_CHARS:
            raise _invalid("Issue", "title", f"title is too long (maximum is {MAX_TITLE_CHARS} characters)")
        self._check_body("Issue", body.get("body"))
        assignees = body.get("assignees", [])
        if not isinstance(assignees, list) or not all(isinstance(a, str) for a in assignees):
            raise _invalid("Issue", "assignees")
        created = self._new_issue(repo, title, body.get("body"), self._label_names(body.get("labels", [])))
        created["_assignees"] = list(dict.fromkeys(assignees))
        issue = self._render_issue(created)
        return 201, issue, {"Location": issue["url"]}

    def _op_update(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        issue = self._issue(repo, params)
        body = request.body if isinstance(request.body, dict) else {}
        if "title" in body and (not isinstance(body["title"], str) or not body["title"].strip()):
            raise _missing("Issue", "title")
        self._check_body("Issue", body.get("body"))
        state, reason = body.get("state"), body.get("state_reason")
        if state not in (None, "open", "closed"):
            raise _invalid("Issue", "state")
        if reason is not None and reason not in STATE_REASONS:
            raise _invalid("Issue", "state_reason")
        names = self._label_names(body["labels"]) if "labels" in body else None
        now = self._now()
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        if names is not None:
            issue["_labels"] = [self._label(repo, n)["name"] for n in names]
        if state is not None and state != issue["state"]:  # state_reason only counts with a state change
            issue["state"] = state
            if state == "closed":
                issue.update(state_reason=reason or "completed", closed_at=now)
            else:
                issue.update(state_reason="reopened", closed_at=None)
        issue["updated_at"] = now
        return 200, self._render_issue(issue), {}

    def _op_list_comments(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        number = self._issue(repo, params)["number"]
        items = [self._render_comment(repo, c) for c in repo.comments.values() if c["_issue"] == number]
        page, headers = self._page(request, items)
        return 200, page, headers

    def _op_create_comment(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        issue = self._issue(repo, params)
        body = request.body.get("body") if isinstance(request.body, dict) else None
        if not body:
            raise _missing("IssueComment", "body")
        self._check_body("IssueComment", body)
        now = self._now()
        comment = {"id": self._new_id(), "body": body, "created_at": now, "updated_at": now, "_issue": issue["number"]}
        repo.comments[comment["id"]] = comment
        issue["comments"] += 1
        rendered = self._render_comment(repo, comment)
        return 201, rendered, {"Location": rendered["url"]}

    def _comment(self, repo: _Repo, params: Mapping[str, str]) -> dict[str, Any]:
        comment = repo.comments.get(int(params["id"]))
        if comment is None:
            raise GitHubError(404, "Not Found")
        return comment

    def _op_get_comment(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        return 200, self._render_comment(repo, self._comment(repo, params)), {}

    def _op_update_comment(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        comment = self._comment(repo, params)
        body = request.body.get("body") if isinstance(request.body, dict) else None
        if not body:
            raise _missing("IssueComment", "body")
        self._check_body("IssueComment", body)
        comment.update(body=body, updated_at=self._now())
        return 200, self._render_comment(repo, comment), {}

    def _issue_labels(self, repo: _Repo, issue: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self._render_label(repo, repo.labels[n.lower()]) for n in issue["_labels"]]

    def _labels_arg(self, request: RecordedRequest) -> list[str]:
        body = request.body
        return self._label_names(body.get("labels", []) if isinstance(body, dict) else body)

    def _op_list_labels_on_issue(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        return 200, self._issue_labels(repo, self._issue(repo, params)), {}

    def _op_add_labels(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        issue = self._issue(repo, params)
        for name in self._labels_arg(request):
            label = self._label(repo, name)["name"]
            if label.lower() not in {n.lower() for n in issue["_labels"]}:
                issue["_labels"].append(label)
        issue["updated_at"] = self._now()
        return 200, self._issue_labels(repo, issue), {}

    def _op_set_labels(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        issue = self._issue(repo, params)
        issue["_labels"] = [self._label(repo, n)["name"] for n in self._labels_arg(request)]
        issue["updated_at"] = self._now()
        return 200, self._issue_labels(repo, issue), {}

    def _op_remove_label(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        issue = self._issue(repo, params)
        remaining = [n for n in issue["_labels"] if n.lower() != params["name"].lower()]
        if len(remaining) == len(issue["_labels"]):
            raise GitHubError(404, "Label does not exist")
        issue["_labels"] = remaining
        return 200, self._issue_labels(repo, issue), {}

    def _op_list_labels_for_repo(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        page, headers = self._page(request, [self._render_label(repo, lb) for lb in repo.labels.values()])
        return 200, page, headers

    def _op_create_label(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        body = request.body if isinstance(request.body, dict) else {}
        name = body.get("name")
        if not name:
            raise _missing("Label", "name")
        if str(name).lower() in repo.labels:
            raise GitHubError(
                422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}]
            )
        color = str(body.get("color", "ededed")).lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise _invalid("Label", "color")
        return 201, self._render_label(repo, self._label(repo, str(name), color, body.get("description"))), {}

    def _op_get_label(self, request: RecordedRequest, params: Mapping[str, str]) -> _Result:
        repo = self._repo(params)
        label = repo.labels.get(params["name"].lower())
        if label is None:
            raise GitHubError(404, "Not Found")
        return 200, self._render_label(repo, label), {}
