"""What is not redundancy: tests, relations read from the code, common shapes, chains."""

from __future__ import annotations

import textwrap

from analyzers import Finding, RedundancyOptions, find_redundancy, scan_module
from analyzers.model import IndexedUnit
from analyzers.relations import TABLE
from app.local import demo

HELPER = '''
def parse_retry_after(value, now):
    """Seconds to wait, from a Retry-After header (seconds or an HTTP date)."""
    value = value.strip()
    if value.isdigit():
        return max(0, int(value))
    parsed = email.utils.parsedate_to_datetime(value)
    if parsed is None:
        raise ValueError(f"not a Retry-After value: {value!r}")
    return max(0, int((parsed - now).total_seconds()))
'''


def review(
    old: dict[str, str],
    new: dict[str, str],
    options: RedundancyOptions | None = None,
    by: dict[str, str] | None = None,
) -> tuple[Finding, ...]:
    """find_redundancy over old + new modules, the units of ``new`` introduced by #1, or by
    the branch ``by`` names for their qualified name ("" for a unit older than the batch)."""
    files = {p: textwrap.dedent(t) for p, t in {**old, **new}.items()}
    index: list[IndexedUnit] = []
    for path, text in files.items():
        index.extend(scan_module(path, text.encode()).units)
    introduced = {
        u.unit.key: (by or {}).get(u.unit.qualname, "#1") for u in index if u.unit.path in new
    }
    introduced = {k: v for k, v in introduced.items() if v}
    return find_redundancy(index, list(introduced), introduced, files.get, options)


def names(findings: tuple[Finding, ...]) -> list[set[str]]:
    return [{m.unit.qualname for m in f.members} for f in findings]


def test_a_copied_helper_is_found_and_the_baseline_holds() -> None:
    copy = HELPER.replace("parse_retry_after", "retry_delay")
    found = review({"pkg/http.py": HELPER}, {"pkg/client.py": copy})
    assert names(found) == [{"parse_retry_after", "retry_delay"}]


def _tests_module(n: int) -> str:
    return "\n".join(
        f"""
def test_endpoint_{i}(client):
    response = client.get("/items/{i}")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == {i}
    assert data["name"] == "item-{i}"
"""
        for i in range(n)
    )


def test_tests_are_left_out_unless_asked_for() -> None:
    old = {"tests/test_items.py": _tests_module(4)}
    new = {"tests/test_more_items.py": _tests_module(3).replace("test_endpoint", "test_more")}
    assert review(old, new) == ()
    # A test copied into another test module: reported only when tests are asked for.
    copied = HELPER.replace("def parse_retry_after(value, now)", "def test_retry_after()")
    old_test = {"tests/test_http.py": copied.replace("value.strip()", "'120 '.strip()")}
    new_test = {"tests/test_client.py": copied.replace("value.strip()", "'60 '.strip()")}
    assert review(old_test, new_test) == ()
    with_tests = review(old_test, new_test, RedundancyOptions(include_tests=True))
    assert names(with_tests) == [{"test_retry_after"}]


def test_a_test_helper_that_reimplements_the_package_is_reported() -> None:
    copy = HELPER.replace("parse_retry_after", "_retry_after_seconds")
    found = review({"pkg/http.py": HELPER}, {"tests/helpers.py": copy})
    assert names(found) == [{"parse_retry_after", "_retry_after_seconds"}]


WRAPPED = '''
def send_catch_log(signal, sender, *arguments, **named):
    """Send a signal, catch exceptions and log them."""
    dont_log = named.pop("dont_log", None)
    spider = named.get("spider", None)
    responses = []
    for receiver in live_receivers(signal, sender):
        try:
            result = receiver(*arguments, signal=signal, sender=sender, **named)
        except dont_log:
            result = None
        responses.append((receiver, result))
    return responses
'''

WRAPPER = '''
from pkg.signal import send_catch_log


class SignalManager:
    def send_catch_log(self, signal, **named):
        """Send a signal, catch exceptions and log them."""
        named.setdefault("sender", self.sender)
        named.setdefault("spider", None)
        dont_log = named.pop("dont_log", None)
        for key in ("sender", "spider"):
            named.setdefault(key, None)
        return send_catch_log(signal, dont_log=dont_log, **named)
'''


def test_a_wrapper_is_not_a_copy_of_what_it_wraps() -> None:
    assert review({"pkg/signal.py": WRAPPED}, {"pkg/manager.py": WRAPPER}) == ()


DUMPS = '''
import json as _json


def dumps(obj, **kwargs):
    """Serialize ``obj`` to a JSON formatted ``str``."""
    if current_app:
        return current_app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    kwargs.setdefault("sort_keys", True)
    kwargs.setdefault("ensure_ascii", False)
    return _json.dumps(obj, **kwargs)
'''


def test_two_copies_calling_one_library_function_do_not_wrap_each_other() -> None:
    # Both copies of flask's dumps call the standard library's json.dumps: neither calls the other.
    copy = DUMPS.replace("def dumps", "def _dumps_local")
    found = review({"pkg/json/__init__.py": DUMPS}, {"pkg/json/tag.py": copy})
    assert names(found) == [{"dumps", "_dumps_local"}]


BASE = '''
class Transport:
    def handle_request(self, request):
        """Send one request and return its response."""
        raise NotImplementedError
'''


def _transport(name: str, module: str) -> str:
    return f'''
from pkg.base import Transport


class {name}(Transport):
    def handle_request(self, request):
        """Send one request through {module} and return its response."""
        connection = self.pool.acquire(request.url.host, request.url.port)
        try:
            raw = connection.send(request.method, request.url.path, request.headers)
            status, headers, body = {module}.read_response(raw)
        finally:
            self.pool.release(connection)
        return Response(status, headers=headers, content=body)
'''


def test_overrides_of_one_interface_are_polymorphism() -> None:
    old = {"pkg/base.py": BASE, "pkg/http11.py": _transport("HTTP11Transport", "h11")}
    new = {"pkg/http2.py": _transport("HTTP2Transport", "h2")}
    assert review(old, new) == ()
    # The same body in two classes that share no interface is a copy.
    unrelated = {"pkg/http2.py": _transport("HTTP2Transport", "h2").replace("(Transport)", "")}
    old_unrelated = {
        "pkg/http11.py": _transport("HTTP11Transport", "h11").replace("(Transport)", "")
    }
    assert len(review(old_unrelated, unrelated)) == 1


def _conversion(name: str, kind: str, given: str, other: str, method: str) -> str:
    """One direction of a text/bytes conversion, in scrapy's style."""
    return f'''
def {name}(text, encoding=None, errors="strict"):
    """Return the {kind} representation of text."""
    if isinstance(text, {given}):
        return text
    if not isinstance(text, {other}):
        raise TypeError(f"{name} must receive a {other} or {given} object, got {{type(text)}}")
    if encoding is None:
        encoding = "utf-8"
    return text.{method}(encoding, errors)
'''


CONVERSIONS = _conversion("to_bytes", "binary", "bytes", "str", "encode")
OPPOSITE = _conversion("to_unicode", "unicode", "str", "bytes", "decode")


def test_opposite_operations_and_protocol_pairs_are_not_redundancy() -> None:
    assert review({"pkg/python.py": CONVERSIONS}, {"pkg/text.py": OPPOSITE}) == ()
    enter = """
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            self.stopped = None
            self.laps = []
            self.lock.acquire()
            return self

        def __exit__(self, *exc_info):
            self.stopped = time.perf_counter()
            self.elapsed = self.stopped - self.started
            self.laps.append(self.elapsed)
            self.lock.release()
            return None
    """
    assert review({}, {"pkg/timer.py": enter}) == ()


OVERLOADS = """
@typing.overload
def main(args: list[str], standalone: typing.Literal[True] = True, prog: str | None = None,
         complete_var: str | None = None, **extra: typing.Any) -> typing.NoReturn: ...


@typing.overload
def main(args: list[str], standalone: bool = ..., prog: str | None = None,
         complete_var: str | None = None, **extra: typing.Any) -> typing.Any: ...
"""


def test_overloads_of_one_name_are_not_redundancy() -> None:
    assert review({}, {"pkg/core.py": OVERLOADS}, RedundancyOptions(min_lines=2)) == ()


def _constructor(cls: str, fields: list[str]) -> str:
    body = "\n".join(f"        self.{f} = {f}" for f in fields)
    return f"""
class {cls}:
    def __init__(self, {", ".join(fields)}):
{body}
        self._cache = None
"""


def test_constructors_that_store_their_arguments_are_weak_evidence() -> None:
    fields = ["host", "port", "scheme", "timeout", "verify", "cert", "trust_env"]
    old = {
        f"pkg/m{i}.py": _constructor(f"Config{i}", [f"{f}{i}" for f in fields]) for i in range(30)
    }
    new = {"pkg/ssl.py": _constructor("SSLConfig", fields)}
    assert review(old, new) == ()


def _variant(name: str, extra: str) -> str:
    return HELPER.replace("parse_retry_after", name).replace(
        "    value = value.strip()\n", f"    value = value.strip()\n{extra}"
    )


def test_groups_do_not_chain_and_stay_small() -> None:
    # a ~ b and b ~ c, but a and c differ too much: two findings at most, never one of three.
    a = HELPER
    b = _variant("retry_b", "    value = value.lower()\n    log.debug('retry %s', value)\n")
    c = _variant(
        "retry_c",
        "    value = value.lower()\n    log.debug('retry %s', value)\n"
        "    metrics.count('retry', 1)\n    if not value:\n        return 0\n"
        "    value = value.replace('GMT', '+0000')\n",
    )
    found = review({"pkg/a.py": a}, {"pkg/b.py": b, "pkg/c.py": c})
    assert found
    assert all(len(f.members) <= 2 for f in found)
    copies = {f"pkg/c{i}.py": HELPER.replace("parse_retry_after", f"retry_{i}") for i in range(9)}
    many = review({"pkg/http.py": HELPER}, copies)
    assert all(len(f.members) <= RedundancyOptions().max_group for f in many)
    assert sum(len(f.members) for f in many) == 10


def test_a_group_merged_into_a_later_one_keeps_its_members_and_lends_none() -> None:
    # Groups {A, B} and {C, D} merge into C's group; a group started afterwards must not take
    # the merged group's place (it did: ids came from the count of live groups), which lost
    # the merged group and padded the new one with its pairs (tortoise-orm's sqlite date
    # converters reported with five unrelated web-framework startup hooks).
    from analyzers.cluster import Pair, complete_groups

    def key(name: str) -> tuple[str, str]:
        return ("pkg/m.py", name)

    def pair(x: str, y: str, score: float) -> Pair:
        return Pair(key(x), key(y), "type-1", score, ())

    def close(x: tuple[str, str], y: tuple[str, str]) -> Pair | None:
        near = {x[1], y[1]} <= set("ABCD")
        return Pair(x, y, "type-1", 0.9, ()) if near else None

    pairs = [
        pair("A", "B", 0.99),
        pair("C", "D", 0.98),
        pair("C", "A", 0.97),
        pair("E", "F", 0.96),
        pair("A", "D", 0.95),
    ]
    groups = complete_groups(pairs, close, 0.5)
    members = sorted(sorted({k[1] for p in g for k in (p.a, p.b)}) for g in groups)
    assert members == [["A", "B", "C", "D"], ["E", "F"]]


def test_groups_do_not_depend_on_which_member_a_pair_names_first() -> None:
    # A and B both tie with C, and A and B are not close: one of them joins C. Which one must
    # not depend on the orientation a candidate search gave each pair (a cold review and one
    # reading cached results met them in different orders, and moto's groups differed).
    from analyzers.cluster import Pair, complete_groups

    def pair(x: str, y: str) -> Pair:
        return Pair(("pkg/m.py", x), ("pkg/m.py", y), "type-1", 1.0, ())

    def members(pairs: list[Pair]) -> list[list[str]]:
        groups = complete_groups(pairs, lambda x, y: None, 0.5)
        return sorted(sorted({k[1] for p in g for k in (p.a, p.b)}) for g in groups)

    assert members([pair("C", "A"), pair("B", "C")]) == members([pair("A", "C"), pair("C", "B")])


def _register(kind: str) -> str:
    return f'''
    def template_{kind}(self, name=None):
        """Register a custom template {kind}, available in every template."""

        def decorator(f):
            self.add_template_{kind}(f, name=name)
            self.jinja_env.{kind}s[name or f.__name__] = f
            self.record_{kind}(name or f.__name__)
            return f

        return decorator
'''


def test_a_family_of_one_shape_is_an_api_not_a_copy() -> None:
    family = "class App:\n" + "".join(
        textwrap.indent(textwrap.dedent(_register(k)), "    ") for k in ("filter", "test", "global")
    )
    assert review({}, {"pkg/app.py": family}) == ()
    # The same body renamed once, in another module, is a copy.
    pair = "class Blueprint:\n" + textwrap.indent(textwrap.dedent(_register("filter")), "    ")
    copy = pair.replace("Blueprint", "Scaffold").replace("filter", "hook")
    assert len(review({"pkg/blueprints.py": pair}, {"pkg/scaffold.py": copy})) == 1


def test_self_demos_under_the_main_guard_are_sample_code() -> None:
    demo = textwrap.indent(textwrap.dedent(HELPER.replace("parse_retry_after", "demo")), "    ")
    scope = 'if __name__ == "__main__":\n' + demo + "\n    print(demo('5', None))\n"
    tabulate = scope.replace("print(demo", "print('tabulate', demo")
    assert review({"pkg/scope.py": scope}, {"pkg/tabulate.py": tabulate}) == ()
    # The same function at the top level is a copy.
    found = review({"pkg/scope.py": HELPER}, {"pkg/tabulate.py": textwrap.dedent(demo)})
    assert names(found) == [{"parse_retry_after", "demo"}]


def test_overload_stubs_repeated_in_a_subclass_are_declarations() -> None:
    stub = """
    @typing.overload
    def get_default(
        self, ctx: Context, call: typing.Literal[True] = True
    ) -> typing.Any | None: ...
    """
    base = "class Parameter:\n" + textwrap.indent(textwrap.dedent(stub), "    ")
    sub = "class Option(Parameter):\n" + textwrap.indent(textwrap.dedent(stub), "    ")
    assert (
        review({"pkg/core.py": base}, {"pkg/options.py": sub}, RedundancyOptions(min_tokens=5))
        == ()
    )


def test_deprecated_code_is_not_unified() -> None:
    shim = '''
    def parse_cache_control(value, on_update=None, cls=None):
        """Deprecated: use CacheControl.from_header."""
        warnings.warn(
            "parse_cache_control is deprecated; use CacheControl.from_header.",
            DeprecationWarning,
            stacklevel=2,
        )
        if cls is None:
            cls = CacheControl
        if not value:
            return cls(None, on_update)
        return cls.from_header(value, on_update)
    '''
    copy = shim.replace("cache_control", "csp_header").replace("CacheControl", "CSP")
    assert review({"pkg/http.py": shim}, {"pkg/csp.py": copy}) == ()
    live = shim.replace("DeprecationWarning", "UserWarning").replace("is deprecated", "is slow")
    assert (
        len(review({"pkg/http.py": live}, {"pkg/csp.py": copy.replace("Deprecation", "User")})) == 1
    )


def test_data_declarations_and_benchmark_scripts_are_not_drift() -> None:
    fields = ["id", "title", "author", "date", "merge_sha", "parent_sha", "description"]
    branch = "@dataclass(frozen=True)\nclass Branch:\n" + "".join(f"    {f}: str\n" for f in fields)
    pair = branch.replace("Branch", "Pair").replace(": str", ": int")
    assert review({"pkg/batch.py": branch}, {"pkg/cluster.py": pair}) == ()
    copy = HELPER.replace("parse_retry_after", "retry_after")
    assert review({"bench/speed.py": HELPER}, {"bench/load.py": copy}) == ()


def test_siblings_of_a_base_the_repository_does_not_define_implement_its_hooks() -> None:
    def protocol(name: str, parser: str) -> str:
        return f'''
import asyncio


class {name}(asyncio.Protocol):
    def connection_made(self, transport):
        """Remember the transport and where the connection comes from."""
        self.connections.add(self)
        self.transport = transport
        self.flow = FlowControl(transport)
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "https" if is_ssl(transport) else "http"
        self.parser = {parser}.Connection(self.client)
        if self.logger.level <= TRACE_LOG_LEVEL:
            self.logger.log(TRACE_LOG_LEVEL, "%s - Connection made", self.client)
'''

    old = {"pkg/h11_impl.py": protocol("H11Protocol", "h11")}
    new = {"pkg/httptools_impl.py": protocol("HttpToolsProtocol", "httptools")}
    assert review(old, new) == ()
    # Without the shared base, the same near copy is reported.
    plain = {k: v.replace("(asyncio.Protocol)", "") for k, v in new.items()}
    old_plain = {k: v.replace("(asyncio.Protocol)", "") for k, v in old.items()}
    assert len(review(old_plain, plain)) == 1


def _getter(cls: str, field: str, key: str) -> str:
    return f'''
class {cls}:
    @property
    def {field}(self):
        if self._{field} is None:
            value = self.config.get("{key}", "")
            if not isinstance(value, str):
                raise TypeError("Field `{key}` must be a string")
            self._{field} = SpecifierSet(value)
        return self._{field}
'''


def test_one_shape_holding_other_data_is_a_pattern_not_a_copy() -> None:
    # A validated getter per field, in two config classes: the same statements over other
    # attributes and literals. A copy renames only its own names and keeps what it reads, so
    # it needs less evidence: at a bar between the two, the copy is found and the pattern not.
    options = RedundancyOptions(min_shared_structure=50)
    old = {"pkg/metadata.py": _getter("CoreMetadata", "python_constraint", "requires-python")}
    other = _getter("ProjectConfig", "hatch_constraint", "requires-hatch")
    assert review(old, {"pkg/project.py": other}, options) == ()
    renamed = _getter("ProjectConfig", "python_constraint", "requires-python")
    renamed = renamed.replace("value", "raw")
    found = review(old, {"pkg/project.py": renamed}, options)
    assert names(found) == [{"CoreMetadata", "ProjectConfig"}]  # the classes: one copy
    assert found[0].clone_type == "type-2"
    assert "its own names or literals changed" in found[0].evidence[0].matched[0]


def _lister(cls: str, collection: str, field: str, local: str, item: str, extra: str) -> str:
    return f"""
class {cls}:
    def list_{collection}(self, {field}=None, max_results=None):
        {local} = list(self.{collection}.values())
        if {field} is not None:
            {local} = [{item} for {item} in {local} if {item}.{field} == {field}]
        {local}.sort(key=lambda {item}: {item}.created)
        {extra}
        if max_results:
            {local} = {local}[:max_results]
        return [{item}.to_dict() for {item} in {local}]
"""


def test_a_near_miss_earns_closeness_only_with_the_names_it_kept() -> None:
    # One list filter per cloud service: 96% alike once names are blinded, but the second
    # service filters its own collection by its own field into its own locals. A copy with
    # one statement added keeps its names. At a bar between the two, the copy is found and
    # the idiom is not: closeness lowers the bar only as far as the names were kept.
    options = RedundancyOptions(min_shared_structure=50)
    mine = _lister("Directories", "directories", "state", "found", "d", "")
    old = {"svc/directory/models.py": mine}
    added = "self.calls += 1"
    other = _lister("Experiments", "experiments", "template_id", "matching", "exp", added)
    assert review(old, {"svc/fis/models.py": other}, options) == ()
    copy = _lister("Experiments", "directories", "state", "found", "d", added)
    found = review(old, {"svc/fis/models.py": copy}, options)
    # Edited classes of two modules are compared by their methods: the copied method.
    assert names(found) == [{"Directories.list_directories", "Experiments.list_directories"}]
    assert found[0].clone_type == "type-3"


def test_a_systematic_rename_with_every_statement_kept_is_still_a_copy() -> None:
    # An agent's copy renames its locals and flips one condition: 99% alike blind, 86% with
    # the names. Renaming alone is no sign of an idiom, so it keeps the closeness of a copy.
    more = "self.calls += 1\n        self.last_listed = len(found)"
    more += "\n        self.log.debug('listed %d of %s', len(found), self.region)"
    mine = _lister("Directories", "directories", "state", "found", "d", more)
    copy = _lister("Experiments", "directories", "state", "hits", "exp", more)
    copy = copy.replace("found", "hits").replace("if max_results:", "if not max_results:")
    # The bar is above the methods' distinctiveness (42): only closeness lets the copy pass.
    options = RedundancyOptions(min_shared_structure=70)
    found = review({"svc/directory/models.py": mine}, {"svc/fis/models.py": copy}, options)
    assert names(found) == [{"Directories.list_directories", "Experiments.list_directories"}]
    assert "near-miss: 99%" in found[0].evidence[0].matched[0]


def _hooks(owner: str, extra: str) -> str:
    return f'''
class {owner}Hook(SaveMixin, RESTObject):
    @exc.on_http_error(exc.GitlabHookTestError)
    def test(self, trigger: str) -> None:
        """Test a {owner.lower()} hook.

        Raises:
            GitlabHookTestError: If the hook test attempt failed
        """
        path = f"{{self.manager.path}}/{{self.encoded_id}}/test/{{trigger}}"
        {extra}
        self.manager.gitlab.http_post(path, timeout=self.manager.timeout)

    def describe_{owner.lower()}(self):
        return {{"{owner.lower()}": self.{owner.lower()}_id, "kind": "{owner}"}}
'''


def test_two_statement_delegations_are_an_idiom_not_a_copy() -> None:
    # One action per REST resource: build the path, send the request. Identical in two
    # classes, long only by the decorator and the docstring: a helper would save nothing.
    old = {"gl/project_hooks.py": _hooks("Project", "")}
    assert review(old, {"gl/group_hooks.py": _hooks("Group", "")}) == ()
    # A third statement is a body worth sharing when it is copied.
    old = {"gl/project_hooks.py": _hooks("Project", "self.tested = trigger")}
    found = review(old, {"gl/group_hooks.py": _hooks("Group", "self.tested = trigger")})
    assert names(found) == [{"ProjectHook.test", "GroupHook.test"}]


REPEAT_EACH = """
def repeat_each(items: list[float], times: int = 4) -> list[float]:
    out: list[float] = []
    for item in items:
        if item is None:
            item = 0.0
        out.extend([item] * times)
    return out
"""
NESTED = "".join("    " + line if line.strip() else line for line in REPEAT_EACH.splitlines(True))
WORKERS_CHART = f"""
def workers_memory(scheduler, source):
{NESTED}
    workers = sorted(scheduler.workers.values(), key=lambda ws: ws.name)
    managed = [ws.memory.managed for ws in workers]
    spilled = [ws.memory.spilled for ws in workers]
    limit = max((ws.memory_limit for ws in workers), default=0)
    with log_errors():
        source.data.update({{"width": repeat_each(managed), "spilled": repeat_each(spilled)}})
        source.title = f"Memory of {{len(workers)}} workers (limit {{limit}})"
"""
RMM_CHART = f"""
def rmm_usage(dashboard, limit):
{NESTED}
    try:
        totals = dashboard.rmm.totals(limit=limit)
    except KeyError:
        return None
    while len(totals) > limit:
        totals.pop()
    return {{"rmm": repeat_each(sorted(totals)), "limit": limit}}
"""


def test_closures_are_details_of_the_functions_that_hold_them() -> None:
    # One small helper nested in two chart functions that are not alike: each closure
    # serves its own function, and only those functions could be the finding.
    assert review({"dash/workers.py": WORKERS_CHART}, {"dash/rmm.py": RMM_CHART}) == ()
    # A closure re-implementing a module-level helper is still a copy of it.
    found = review({"dash/utils.py": REPEAT_EACH}, {"dash/rmm.py": RMM_CHART})
    assert names(found) == [{"repeat_each", "rmm_usage.repeat_each"}]


def _engine(site: str, key: str, extra: str) -> str:
    return f'''
from json import loads

base_url = "https://{site}.example.org"


def request(query, params):
    params["url"] = f"{{base_url}}/search?q={{query}}&page={{params['pageno']}}"
    return params


def response(resp):
    results = []
    for item in loads(resp.text).get("{key}", []):
        if not item.get("name"):
            continue
        results.append({{
            "url": item["html_url"],
            "title": item["name"],
            "content": item.get("description") or "",
            "tags": item.get("topics", []),
        }})
        {extra}
    return results
'''


def test_a_function_every_module_of_a_folder_defines_is_its_interface() -> None:
    # Search engines, one module each, that the caller drives through module functions of
    # agreed names: a third engine's own ``response`` makes the name the folder's interface.
    forgejo = {"searx/engines/forgejo.py": _engine("forgejo", "items", "results.reverse()")}
    gitea = {"searx/engines/gitea.py": _engine("gitea", "data", "")}
    wiki = "def response(resp):\n    return [{'url': resp.url, 'title': resp.text[:80]}]\n"
    news = "def response(resp):\n    return [{'url': a['link']} for a in resp.json()]\n"
    engines = {**gitea, "searx/engines/wiki.py": wiki, "searx/engines/news.py": news}
    assert review(engines, forgejo) == ()

    def members(found: tuple[Finding, ...]) -> list[set[tuple[str, str]]]:
        return [{(m.unit.path, m.unit.qualname) for m in f.members} for f in found]

    # Two modules alone share no convention: the near copy is reported.
    assert members(review(gitea, forgejo)) == [
        {("searx/engines/gitea.py", "response"), ("searx/engines/forgejo.py", "response")}
    ]
    # Nor do modules the batch itself wrote: a helper its branches copied into three
    # modules of a package is drift, however many modules define the name now.
    batch = {**forgejo, **{f"searx/engines/{n}.py": wiki for n in ("wiki", "news")}}
    assert members(review(gitea, batch))[0] >= {
        ("searx/engines/gitea.py", "response"),
        ("searx/engines/forgejo.py", "response"),
    }


def _command(name: str, body: str) -> str:
    return f'''
@click.command(short_help="{name.capitalize()} Python distributions")
@click.option("--dir", "-d", "directory", help="The directory in which distributions reside")
@click.option("--ascii", "force_ascii", is_flag=True, help="Whether or not to only use ASCII")
@click.pass_obj
def {name}(app, directory, force_ascii):
    """{name.capitalize()} Python distributions."""
{textwrap.indent(textwrap.dedent(body), "    ")}
'''


def test_decorators_declare_and_are_no_evidence_of_one_concept() -> None:
    # Commands sharing their options' declarations do different things.
    find = _command(
        "find",
        """
        manager = app.get_python_manager(directory)
        installed = manager.get_installed()
        if not installed:
            app.abort("No distributions installed")
        for name, dist in sorted(installed.items()):
            app.display(f"{name}: {dist.path}")
    """,
    )
    show = _command(
        "show",
        """
        table = {"Name": [], "Source": []}
        for source in app.project.config.sources:
            table["Name"].append(source.name)
            table["Source"].append(source.url)
        app.display_table("Sources", table, force_ascii=force_ascii)
        return len(table["Name"])
    """,
    )
    assert review({"pkg/cli/find.py": find}, {"pkg/cli/show.py": show}) == ()


def _script(helper: str) -> str:
    runner = "def main():\n    print(parse_retry_after('5', None))\n"
    return f"import email.utils\n{helper}\n\n{runner}\n\nif __name__ == '__main__':\n    main()\n"


def test_standalone_scripts_are_self_contained_on_purpose() -> None:
    # Two programs (a CI action, a release script): nothing imports them, each carries its
    # own helpers. A script's copy of a helper of the package is still drift.
    scripts = review({"scripts/bump.py": _script(HELPER)}, {"scripts/release.py": _script(HELPER)})
    assert scripts == ()
    into_package = review({"scripts/bump.py": _script(HELPER)}, {"pkg/retry.py": HELPER})
    assert names(into_package) == [{"parse_retry_after"}]


def test_two_distributions_setup_scripts_each_keep_their_helpers() -> None:
    # conan's setup_server.py, copied from setup.py for a second distribution: a build runs
    # each alone, before the package it describes is installed, so neither can import the other.
    setup = (
        "import email.utils\nfrom setuptools import find_packages, setup\n"
        + HELPER
        + "\nsetup(\n    name='pkg',\n    packages=find_packages(),\n)\n"
    )
    server = setup.replace("name='pkg'", "name='pkg-server'")
    assert review({"setup.py": setup}, {"setup_server.py": server}) == ()
    # The same helper copied into the package is still a copy of it.
    assert names(review({"setup.py": setup}, {"pkg/retry.py": HELPER})) == [{"parse_retry_after"}]


def _connection(colour: str) -> str:
    prefix, awaiting, name = ("", "", "handle_request")
    if colour:
        prefix, awaiting, name = ("Async", "await ", "handle_async_request")
    return f"""
class {prefix}HTTPConnection:
    def has_expired(self):
        now = time.monotonic()
        keepalive_expired = self._expire_at is not None and now > self._expire_at
        # If the HTTP connection is idle but the socket is readable, then the
        # only valid state is that the socket is about to return b"", indicating
        # a server-initiated disconnect.
        server_disconnected = (
            self._state == "IDLE"
            and self._network_stream.get_extra_info("is_readable")
        )
        return keepalive_expired or server_disconnected

    {"async " if colour else ""}def {name}(self, request):
        if not self.can_handle_request(request.url.origin):
            raise RuntimeError(f"Attempted to send request to {{request.url.origin}}")
        with self._request_lock:
            if self._connection is None:
                stream = {awaiting}self._connect(request)
                self._connection = self._make_connection(stream)
        return {awaiting}self._connection.{name}(request)
"""


def test_the_async_and_sync_trees_of_one_api_are_twins_not_copies() -> None:
    # httpcore's _sync package is generated from _async: whatever does not await is identical.
    twins = review(
        {"pkg/_async/connection.py": _connection("async")},
        {"pkg/_sync/connection.py": _connection("")},
    )
    assert twins == ()
    # A pair across the trees is the same pair as inside one of them: reported once, there
    # (``has_expired`` has ten lines: a shorter method is each class's own, see below).
    proxy = _connection("").replace("class HTTPConnection", "class ProxyConnection")
    old = {
        "pkg/_async/connection.py": _connection("async"),
        "pkg/_sync/connection.py": _connection(""),
        "pkg/_async/proxy.py": proxy.replace("class Proxy", "class AsyncProxy"),
    }
    found = review(old, {"pkg/_sync/proxy.py": proxy})
    assert found
    assert all(
        {m.unit.path for m in f.members} == {"pkg/_sync/connection.py", "pkg/_sync/proxy.py"}
        for f in found
    )


def test_programs_a_docs_page_shows_are_sample_code() -> None:
    # sqlmodel's docs_src/advanced/uuid/tutorial001.py and its _py310 twin, each complete.
    page = HELPER + "\n\ndef main():\n    print(parse_retry_after('5', None))\n"
    old = {"docs_src/retry/tutorial001.py": page}
    assert review(old, {"docs_src/retry/tutorial001_py310.py": page}) == ()
    assert len(review({"src_docs_v2/retry/a.py": page}, {"src_docs_v2/retry/b.py": page})) == 1


def test_a_top_level_cookbook_is_sample_code_and_a_packages_cookbook_is_not() -> None:
    # agno's cookbook/ of standalone agent scripts, autogen's python/samples/: each example
    # complete on its own. mealie's mealie/schema/cookbook/ is the package's recipe books.
    page = HELPER + "\n\ndef main():\n    print(parse_retry_after('5', None))\n"
    for folder in ("cookbook/agents", "python/samples/chat"):
        assert review({f"{folder}/a.py": page}, {f"{folder}/b.py": page}) == ()
    found = review({"app/schema/cookbook/a.py": page}, {"app/schema/cookbook/b.py": page})
    assert len(found) == 1


def test_project_templates_are_scaffolding_not_drift() -> None:
    env = HELPER + "\n\ndef run_migrations_online():\n    return parse_retry_after('5', None)\n"
    copies = review({"tool/templates/generic/env.py": env}, {"tool/templates/async/env.py": env})
    assert copies == ()


def test_two_distributions_of_a_monorepo_keep_their_own_copies() -> None:
    # hatch and its build backend hatchling ship apart: a copy is how one avoids the other.
    old = {"pyproject.toml": "[project]\n", "backend/pyproject.toml": "[project]\n"}
    old["backend/src/hatchling/plugin/utils.py"] = HELPER
    found = review(old, {"src/hatch/plugin/utils.py": HELPER.replace("value", "header")})
    assert found == ()
    inside = review(old, {"backend/src/hatchling/retry.py": HELPER.replace("value", "header")})
    assert names(inside) == [{"parse_retry_after"}]


_BACKEND_API = """
def current_time():
    return {clock}()


async def sleep(delay):
    await {lib}.sleep(delay)


async def checkpoint():
    await {lib}.sleep(0)


class TaskGroup:
    def start_soon(self, func, *args):
        self._{lib}_group.start_soon(func, *args)

    def cancel_scope(self):
        return self._{lib}_scope
"""


def test_alternative_backends_of_one_interface_adapt_it_each_their_own_way() -> None:
    # anyio's _backends/_asyncio.py and _trio.py define the same names; a near copy between
    # them is each backend's version of one operation (its own exceptions, its own calls).
    asyncio_backend = _BACKEND_API.format(lib="asyncio", clock="loop_time") + HELPER
    near = HELPER.replace("raise ValueError", "raise TrioValueError").replace(
        "value = value.strip()", "value = value.strip()\n    checkpoint_if_cancelled()"
    )
    trio_backend = _BACKEND_API.format(lib="trio", clock="trio.current_time") + near
    old = {
        "pkg/__init__.py": "",
        "pkg/_backends/__init__.py": "",
        "pkg/_backends/_asyncio.py": asyncio_backend,
    }
    assert review(old, {"pkg/_backends/_trio.py": trio_backend}) == ()
    # The same near copy in a module that is no second implementation is reported.
    assert names(review(old, {"pkg/retry.py": near})) == [{"parse_retry_after"}]
    # A module that builds on the other (imports it: subclasses overriding its methods) is
    # no alternative to it: the near copy between them is reported.
    layered = trio_backend.replace(
        "def current_time", "from pkg._backends._asyncio import sleep\n\n\ndef current_time", 1
    )
    assert names(review(old, {"pkg/_backends/_trio.py": layered})) == [{"parse_retry_after"}]
    # And an identical copy between the backends is still a copy to share.
    same = _BACKEND_API.format(lib="trio", clock="trio.current_time") + HELPER
    assert names(review(old, {"pkg/_backends/_trio.py": same})) == [{"parse_retry_after"}]


_THUMB = '''
class {cls}(InputMedia):
    def __init__(self, media, thumbnail=None):
        super().__init__("{kind}", media)
        self.thumbnail = thumbnail

    @property
    def thumb(self):
        """The thumbnail.

        .. deprecated:: 20.2
           Use :attr:`thumbnail`.
        """
        warn_about_deprecated_attr_in_property(
            deprecated_attr_name="thumb",
            new_attr_name="thumbnail",
            bot_api_version="6.6",
        )
        if self.thumbnail is None:
            return None
        return self.thumbnail
'''


def test_a_property_its_docstring_deprecates_is_not_unified() -> None:
    # python-telegram-bot's four thumb shims: the Sphinx directive at the docstring's own level
    # says they are deprecated (they leave together in a later release).
    old = {"pkg/media.py": _THUMB.format(cls="InputMediaAudio", kind="audio")}
    new = {"pkg/video.py": _THUMB.format(cls="InputMediaVideo", kind="video")}
    options = RedundancyOptions(min_tokens=5)
    assert review(old, new, options) == ()
    # The project's own warning helper is no sign on its own: alembic's live Config methods
    # call util.warn_deprecated when an old option is used. Without the directive, a copy.
    live_old, live = (
        {p: t.replace(".. deprecated:: 20.2", "Since 20.2:") for p, t in files.items()}
        for files in (old, new)
    )
    assert names(review(live_old, live, options)) == [
        {"InputMediaAudio.thumb", "InputMediaVideo.thumb"}
    ]
    # Indented under a parameter, the directive deprecates the parameter, not the property.
    param_old, param = (
        {
            p: t.replace(
                ".. deprecated:: 20.2",
                ":param size: the size.\n\n            .. deprecated:: 20.2",
            )
            for p, t in files.items()
        }
        for files in (old, new)
    )
    assert len(review(param_old, param, options)) == 1


def test_code_kept_in_a_deprecated_package_is_not_unified() -> None:
    # isort keeps its old finders in isort/deprecated/ until they are deleted.
    old = {"pkg/deprecated/finders.py": HELPER}
    assert review(old, {"pkg/place.py": HELPER}) == ()
    assert names(review({"pkg/current/finders.py": HELPER}, {"pkg/place.py": HELPER})) == [
        {"parse_retry_after"}
    ]
    # An old version's behaviour kept as it was (jsonschema's _legacy_validators.py), or a
    # snapshot of a module kept for reference (pyparsing_archive.py): kept as they are.
    for kept in ("pkg/_legacy_validators.py", "pyparsing_archive.py", "pkg/archived/http.py"):
        assert review({kept: HELPER}, {"pkg/place.py": HELPER}) == (), kept
    # A word inside another word is not the place's name, and code handling archives (fsspec's
    # archive.py) is live code.
    for live in ("pkg/archiver.py", "pkg/archive.py", "pkg/archive_utils.py"):
        assert names(review({live: HELPER}, {"pkg/place.py": HELPER})) == [{"parse_retry_after"}], (
            live
        )


_NAMESPACE = """
class {name}({base}):
    def __init__(self):
        {warn}
        super().__init__()

    def signal(self, name, doc=None):
        \"\"\"The signal ``name``, created on first use.\"\"\"
        try:
            return self[name]
        except KeyError:
            result = self.setdefault(name, NamedSignal(name, doc))
            return result
"""


def test_a_class_whose_constructor_warns_it_is_deprecated_is_not_unified() -> None:
    # blinker's _WeakNamespace warns in __init__; its signal() equals Namespace's.
    live = _NAMESPACE.format(name="Namespace", base="dict", warn="pass")
    warn = "warnings.warn('WeakNamespace is deprecated', DeprecationWarning, stacklevel=2)"
    weak = _NAMESPACE.format(name="WeakNamespace", base="WeakValueDictionary", warn=warn)
    options = RedundancyOptions(min_tokens=5, min_lines=3)
    assert review({"pkg/base.py": live}, {"pkg/weak.py": weak}, options) == ()
    kept = weak.replace("DeprecationWarning", "ResourceWarning").replace("is deprecated", "is weak")
    assert names(review({"pkg/base.py": live}, {"pkg/weak.py": kept}, options)) == [
        {"Namespace.signal", "WeakNamespace.signal"}
    ]


_WRAPPER = """
def _wrap_{name}(f):
    @wraps(f)
    {a}def new_{name}(*args, **kwargs):
        integration = get_client().get_integration(GraphIntegration)
        if integration is None:
            return {aw}f(*args, **kwargs)
        graph_name = _get_graph_name(args[0]) if args else None
        with start_span(op="invoke_agent", name=f"invoke_agent {{graph_name}}") as span:
            span.set_data("gen_ai.operation.name", "invoke_agent")
            if graph_name:
                span.set_data("gen_ai.pipeline.name", graph_name)
            result = {aw}f(*args, **kwargs)
            span.set_data("gen_ai.response.text", _parse_result(result))
            return result
    return new_{name}
"""


def test_a_wrapper_and_its_a_prefixed_async_twin_are_variants() -> None:
    sync = _WRAPPER.format(name="invoke", a="", aw="")
    both = sync + _WRAPPER.format(name="ainvoke", a="async ", aw="await ")
    assert review({}, {"pkg/integrations/graph.py": both}) == ()
    # The same pair under names that are no async twins is a near copy (of older code).
    other = sync + _WRAPPER.format(name="stream", a="async ", aw="await ")
    found = review({}, {"pkg/integrations/graph.py": other}, by={"_wrap_invoke": ""})
    assert names(found) == [{"_wrap_invoke", "_wrap_stream"}]


def test_variants_one_change_wrote_side_by_side_are_not_drift() -> None:
    # A per-keyword validator beside its sibling, written in one diff: each made to differ.
    sync = _WRAPPER.format(name="invoke", a="", aw="")
    pair = sync + _WRAPPER.format(name="stream", a="async ", aw="await ")
    assert review({}, {"pkg/integrations/graph.py": pair}) == ()
    # Two branches, or a branch and older code, wrote them apart: that is drift.
    apart = review({}, {"pkg/integrations/graph.py": pair}, by={"_wrap_stream": "#2"})
    assert names(apart) == [{"_wrap_invoke", "_wrap_stream"}]
    # An identical pair in one change is a slip, not a variant.
    twice = sync + sync.replace("_wrap_invoke", "_wrap_call")
    found = review({}, {"pkg/integrations/graph.py": twice})
    assert [f.clone_type for f in found] == ["type-1"]
    assert names(found) == [{"_wrap_invoke.new_invoke", "_wrap_call.new_invoke"}]


_SPECIAL = """
class {cls}:
    def {verb}(self, item):
        return self._state.{verb}(item, self._buffer)

    def __del__(self) -> None:
        if not self._closed:
            warnings.warn(
                f"Unclosed <{{self.__class__.__name__}} at {{id(self):x}}>",
                ResourceWarning,
                source=self,
            ){extra}
"""


def test_identical_short_special_methods_of_two_classes_are_their_own_protocol() -> None:
    # anyio's send and receive memory streams each warn the same way when left unclosed.
    def both(extra: str) -> tuple[Finding, ...]:
        receive = _SPECIAL.format(cls="ReceiveStream", verb="receive", extra=extra)
        send = _SPECIAL.format(cls="SendStream", verb="send", extra=extra)
        return review({"pkg/receive.py": receive}, {"pkg/send.py": send})

    assert both("") == ()
    # A special method long enough to hold logic of its own is a copy like any other.
    logic = "\n".join(
        f"        if self._buffer_{i}:\n            self._buffer_{i}.clear()" for i in range(4)
    )
    assert len(both("\n" + logic)) == 1


_LAZY = """
import importlib

_LAZY_IMPORTS = {{{table}}}


def {name}(name):
    if name in _LAZY_IMPORTS:
        module_path, attr_name = _LAZY_IMPORTS[name]
        try:
            module = importlib.import_module(module_path)
            attr = getattr(module, attr_name)
        except ImportError as e:
            raise ImportError(f"Failed to import {{name}} from {{module_path}}: {{e}}") from e
        globals()[name] = attr
        return attr
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
"""


def test_identical_module_getattr_hooks_of_two_modules_are_each_modules_own() -> None:
    # browser-use's packages each open their lazy imports with the same PEP 562 __getattr__:
    # it reads its own module's table and globals, so it cannot be shared as it is.
    def both(name: str) -> tuple[Finding, ...]:
        agent = _LAZY.format(table='"Agent": ("pkg.agent.service", "Agent")', name=name)
        llm = _LAZY.format(table='"ChatOpenAI": ("pkg.llm.openai", "ChatOpenAI")', name=name)
        return review({"pkg/__init__.py": agent}, {"pkg/llm/__init__.py": llm})

    assert both("__getattr__") == ()
    # The same body under a name of its own is a helper written twice.
    found = both("lazy_attribute")
    assert [{m.unit.path for m in f.members} for f in found] == [
        {"pkg/__init__.py", "pkg/llm/__init__.py"}
    ]


_WATCHER = """
import threading


class {cls}:
    def __init__(self, io):
        self.io = io
        self.stop_event = None
        self.watcher_thread = None

{work}

    def stop(self):
        if self.watcher_thread:
            self.stop_event.set()
            self.watcher_thread.join()
            self.watcher_thread = None
            self.stop_event = None
"""


_POLL = """
    def poll(self):
        last = self.io.paste()
        while not self.stop_event.is_set():
            text = self.io.paste()
            if text != last:
                self.io.interrupt(text)
                last = text
            self.stop_event.wait(0.5)"""

_WATCH = """
    def watch(self, root):
        for changes in self.io.watch(root, stop_event=self.stop_event, ignore=self.io.ignored):
            paths = sorted({path for _, path in changes})
            if any(self.io.has_comment(path) for path in paths):
                self.io.interrupt(paths)"""


def test_a_short_identical_method_of_classes_in_two_modules_is_each_classs_own() -> None:
    # aider's clipboard and file watchers stop their thread the same way: sharing seven lines
    # between two classes of two modules takes a base class neither has.
    clipboard = _WATCHER.format(cls="ClipboardWatcher", work=_POLL)
    files = _WATCHER.format(cls="FileWatcher", work=_WATCH)
    assert review({"pkg/copypaste.py": clipboard}, {"pkg/watch.py": files}) == ()
    # Side by side in one module, the two classes are one refactor away from a shared base.
    one = review({}, {"pkg/watch.py": clipboard + files.replace("import threading", "")})
    assert names(one) == [{"ClipboardWatcher.stop", "FileWatcher.stop"}]
    # A short function copied into another module is shared by an import.
    helper = "\n\ndef stop_thread(watcher):\n" + "\n".join(
        line[4:] for line in _WATCHER.split("def stop(self):\n")[1].splitlines()
    ).replace("self.", "watcher.")
    apart = review({"pkg/copypaste.py": helper}, {"pkg/watch.py": helper})
    assert [{m.unit.path for m in f.members} for f in apart] == [
        {"pkg/copypaste.py", "pkg/watch.py"}
    ]


_READ_LINE = '''
class {cls}:
{extra}

    {a}def read_line(self, buf, limit=0):
        """Read one CRLF-terminated line from the unreader."""
        data = buf.getvalue()
        while True:
            idx = data.find(b"\\r\\n")
            if idx >= 0:
                if idx > limit > 0:
                    raise LimitRequestLine(idx, limit)
                break
            if len(data) - 2 > limit > 0:
                raise LimitRequestLine(len(data), limit)
            chunk = {aw}self.unreader.read()
            buf.write(chunk)
            data = buf.getvalue()
        return data[:idx], data[idx + 2 :]
'''


_WSGI = """    def environ(self, scope):
        environ = dict(self.defaults)
        for key, value in scope.items():
            environ[key.upper()] = value
        return environ
"""
_ASGI = """    def scope(self):
        return {"type": "http", "headers": [(k.lower(), v) for k, v in self.headers]}
"""


def test_a_coroutine_and_the_function_it_ports_are_variants_not_copies() -> None:
    # gunicorn's ASGI parser ports the HTTP parser's reads to await: each side does its own I/O.
    sync = _READ_LINE.format(cls="Request", extra=_WSGI, a="", aw="")
    port = _READ_LINE.format(cls="AsyncRequest", extra=_ASGI, a="async ", aw="await ")
    assert review({"pkg/http/message.py": sync}, {"pkg/asgi/message.py": port}) == ()
    # The same port without the await is a copy.
    plain = _READ_LINE.format(cls="AsyncRequest", extra=_ASGI, a="", aw="")
    plain = plain.replace(
        "data = buf.getvalue()\n        return", "data = bytes(buf.getvalue())\n        return"
    )
    assert len(review({"pkg/http/message.py": sync}, {"pkg/asgi/message.py": plain})) == 1


_CONFIG = '''
class {cls}:
    def proxy_allow_networks(self):
        """The networks a proxy header is trusted from."""
        networks = []
        for entry in self.settings["proxy_allow_ips"].split(","):
            entry = entry.strip()
            if not entry or entry == "*":
                continue
            networks.append(ipaddress.ip_network(entry, strict=False))
        return networks
'''


def test_a_test_double_mirrors_the_real_class_on_purpose() -> None:
    # gunicorn's tests/test_asgi_parser.py::MockConfig copies Config's method to stand in for it.
    old = {"pkg/config.py": _CONFIG.format(cls="Config")}
    assert review(old, {"tests/test_parser.py": _CONFIG.format(cls="MockConfig")}) == ()
    # A test module's own helper that re-implements the package is still reported.
    helper = _CONFIG.format(cls="ConfigHelper")
    assert len(review(old, {"tests/test_parser.py": helper})) == 1


_ERROR = '''
class {cls}(AstroidError):
    """Raised when {what}."""

    def __init__(
        self,
        message: str = "",
        node: NodeNG | None = None,
        index: Subscript | None = None,
        context: InferenceContext | None = None,
        **kws: Any,
    ) -> None:
        self.node = node
        self.index = index
        self.context = context
        super().__init__(message, **kws)
'''


def test_identical_constructors_of_two_classes_are_two_records() -> None:
    # astroid's AstroidIndexError and AstroidTypeError each store the same arguments.
    index = _ERROR.format(cls="AstroidIndexError", what="an index is missing")
    typed = _ERROR.format(cls="AstroidTypeError", what="a TypeError would be expected")
    assert review({"pkg/exceptions.py": index}, {"pkg/errors.py": typed}) == ()
    # The same body under another name is a copy.
    copied = typed.replace("def __init__", "def configure")
    assert len(review({"pkg/exceptions.py": index}, {"pkg/errors.py": copied})) == 1


_FINDER = '''
def {vcs}_archive_find_files(path):
    """The files an archive of the {vcs} repository at ``path`` holds."""
    archival = os.path.join(path, "{marker}")
    if not os.path.exists(archival):
        return []
    data = read_archival(archival)
    if {check}:
        log.warning("{marker} is not expanded; is the archive from {vcs}?")
        return []
    return scm_find_files(path, set(), set(), force_all_files=True)
'''


def test_one_plugin_per_backend_named_for_it_is_by_design() -> None:
    # setuptools_scm's file_finder_git.py::git_archive_find_files and the hg one.
    git = _FINDER.format(vcs="git", marker=".git_archival.txt", check='"$Format" in data["node"]')
    hg = _FINDER.format(vcs="hg", marker=".hg_archival.txt", check='"node" not in data')
    old = {"pkg/file_finder_git.py": git}
    assert review(old, {"pkg/file_finder_hg.py": hg}) == ()
    # The same near copy under a name that is not the module's word is reported.
    other = hg.replace("def hg_archive_find_files", "def archive_files")
    assert len(review(old, {"pkg/file_finder_hg.py": other})) == 1


_SCORES = """
def calculate_{multi}context_scores(query, vectors, distance_type):
    overall_scores = np.zeros(len(vectors), dtype=np.float32)
    for pair in query.context_pairs:
        pos = calculate_{multi}distance_core(pair.positive, vectors, distance_type)
        neg = calculate_{multi}distance_core(pair.negative, vectors, distance_type)
        difference = pos - neg - EPSILON
        pair_scores = fast_sigmoid(np.minimum(difference, 0.0)) {scale}
        overall_scores += pair_scores
    return overall_scores
"""


def test_a_module_and_its_units_named_for_one_added_kind_are_that_kinds_version() -> None:
    # qdrant's local mode: multi_distances.py holds the multi-vector version of each formula of
    # distances.py, named for it by the word it adds.
    dense = _SCORES.format(multi="", scale="")
    multi = _SCORES.format(multi="multi_", scale="* len(vectors[0])")
    old = {"pkg/local/distances.py": dense}
    assert review(old, {"pkg/local/multi_distances.py": multi}) == ()
    # The same near copy under a name that does not add the module's word is reported.
    other = multi.replace("def calculate_multi_context_scores", "def context_scores")
    assert len(review(old, {"pkg/local/multi_distances.py": other})) == 1


def test_the_bytes_and_text_entry_points_of_one_operation_are_variants() -> None:
    # parsel's _get_root_and_type_from_bytes and _get_root_and_type_from_text.
    from analyzers.model import Unit
    from analyzers.relations import opposed

    def unit(name: str) -> Unit:
        return Unit("pkg/selector.py", name, "function", 1, 20)

    assert opposed(unit("_get_root_and_type_from_bytes"), unit("_get_root_and_type_from_text"))
    assert not opposed(unit("_get_root_from_text"), unit("_get_root_from_html"))


_GETTER = '''
    def get_{opt}_list(self):
        """The {opt} option as a list."""
        raw = self.get_main_option("{opt}")
        if raw is None:
            return self.toml_options.get("{opt}", [])
        separator = self.get_main_option("{sep}")
        if separator is None:
            warnings.warn("No {sep} in the configuration; splitting {opt} on spaces or commas.")
            return re.split(r", *|(?: +)", raw)
        try:
            split_on = SPLIT_ON_PATH[separator]
        except KeyError as err:
            raise ValueError(f"{{separator!r}} is not a valid value for {sep}") from err
        return [x.strip() for x in raw.split(split_on) if {keep}]
'''


def test_a_block_of_rare_logic_written_twice_side_by_side_is_a_copy() -> None:
    # alembic's Config.get_prepend_sys_paths_list, written beside get_version_locations_list
    # by the same change: the same legacy-separator parsing, lines no other function has.
    first = _GETTER.format(opt="version_locations", sep="version_path_separator", keep="x.strip()")
    second = _GETTER.format(opt="prepend_sys_path", sep="path_separator", keep="x")
    new = {"pkg/config.py": "class Config:\n" + first + second}
    assert names(review({"pkg/http.py": HELPER}, new)) == [
        {"Config.get_version_locations_list", "Config.get_prepend_sys_path_list"}
    ]
    # Once an older function holds the same block, the two share no rare lines of their own:
    # they are variants of the repository's template, and only the drift from it is reported.
    hooks = "class Hooks:\n" + _GETTER.format(opt="hooks", sep="hook_separator", keep="x")
    old = {"pkg/http.py": HELPER, "pkg/hooks.py": hooks}
    assert names(review(old, new)) == [{"Config.get_prepend_sys_path_list", "Hooks.get_hooks_list"}]


_PARSE_HEAD = '''
def parse_request(req, unreader):
    """Read the request line and the headers."""
    buf = bytearray()
    read_into(unreader, buf)
    line, buf = read_line(unreader, buf, req.limit_request_line)
    req.method, req.uri, req.version = split_request_line(line, "Invalid request line %r")
    while b"\\r\\n\\r\\n" not in buf:
        if len(buf) > req.max_buffer_headers:
            raise LimitRequestHeaders("max buffer headers")
        read_into(unreader, buf)
    req.headers = parse_header_block(buf, "Invalid header %r")
    return buf
'''
_READ_HEAD = '''
async def read_request_head(req, stream):
    """The request head, awaited from the stream."""
    data = bytearray()
    {aw}_read_into(stream, data)
    first, data = {aw}_read_line(stream, data, req.limit_request_line)
    parts = split_request_line(first, "Invalid request line %r")
    req.method, req.uri, req.version = parts
    while True:
        if b"\\r\\n\\r\\n" in data:
            break
        if len(data) > req.max_buffer_headers:
            raise LimitRequestHeaders("max buffer headers")
        {aw}_read_into(stream, data)
    req.headers = parse_header_block(data, "Invalid header %r")
    {tail}return data
'''


def test_a_coroutine_awaiting_the_reads_of_a_function_is_its_port_not_its_concept_twin() -> None:
    # gunicorn's AsyncRequest._parse awaits the reads Request.parse runs: alike in what they
    # parse, each does its own I/O.
    old = {"pkg/http/message.py": _PARSE_HEAD}
    port = _READ_HEAD.format(aw="await ", tail="")
    assert review(old, {"pkg/asgi/message.py": port}) == ()
    # A coroutine that only waits on an event at its end runs the same work behind an async
    # signature (uvicorn's process_request hook): still a re-implementation.
    hook = _READ_HEAD.format(aw="", tail="await req.ready.wait()\n    ")
    found = review(old, {"pkg/asgi/message.py": hook})
    assert [f.clone_type for f in found] == ["concept"]
    assert names(found) == [{"parse_request", "read_request_head"}]


_STORE = """
class Store:
    def create(self, key, scope):
        raise NotImplementedError

    def delete(self, key):
        raise NotImplementedError
"""
_PG_DELETE = """
    def delete(self, key):
        conn = psycopg2.connect(self.dsn, connect_timeout=self.timeout)
        cursor = conn.cursor()
        cursor.execute("DELETE FROM sessions WHERE key = %s", (key,))
        if cursor.rowcount == 0:
            logger.warning("no session %s", key)
        conn.commit()
        cursor.close()
        conn.close()
        self.cache.pop(key, None)
"""
_PG_CREATE = """
    def create(self, key, scope):
        with psycopg2.connect(self.dsn) as conn:
            conn.execute("INSERT INTO sessions VALUES (%s, %s)", (key, json.dumps(scope)))
        self.cache[key] = scope
"""
_LITE_CREATE = """
    def create(self, key, scope):
        conn = sqlite3.connect(self.path, timeout=self.timeout)
        cursor = conn.cursor()
        cursor.execute("INSERT INTO sessions (key, scope) VALUES (?, ?)", (key, scope))
        if cursor.rowcount == 0:
            logger.warning("no session %s", key)
        conn.commit()
        cursor.close()
        conn.close()
        self.cache[key] = scope
"""


def test_two_operations_of_one_interface_do_not_pair_across_its_implementations() -> None:
    # mangum's PostgreSQLBackend.delete ~ SQLiteBackend.create: alike in their plumbing
    # (connect, execute, commit, close), but each class has its own version of the other
    # operation, and that is the counterpart to compare with.
    head = "from pkg.base import Store\n\nclass {}(Store):"
    old = {"pkg/base.py": _STORE, "pkg/postgres.py": head.format("PostgresStore") + _PG_DELETE}
    new = {"pkg/sqlite.py": head.format("SqliteStore") + _LITE_CREATE}
    # A create written like another class's delete, where that class has no create: compared.
    assert names(review(old, new)) == [{"PostgresStore.delete", "SqliteStore.create"}]
    old["pkg/postgres.py"] += _PG_CREATE
    assert review(old, new) == ()


_CONNECTION = """
class Connection:
    async def acquire(self):
        raise NotImplementedError

    async def release(self):
        raise NotImplementedError
"""
_RELEASE = """
    async def release(self):
        assert self._connection is not None, "Connection is not acquired"
        assert self._database._pool is not None, "DatabaseBackend is not running"
        await self._database._pool.release(self._connection)
        self._connection = None
"""


def test_an_interface_method_that_only_hands_work_to_its_own_parts_is_each_backends() -> None:
    # databases' MySQLConnection.release and AiopgConnection.release: identical because the two
    # drivers' pools share an API; each binds the interface to its own pool.
    head = "from pkg.base import Connection\n\nclass {}(Connection):"
    old = {"pkg/base.py": _CONNECTION, "pkg/mysql.py": head.format("MySQLConnection") + _RELEASE}
    new = {"pkg/aiopg.py": head.format("AiopgConnection") + _RELEASE}
    assert review(old, new) == ()
    # The same copy deciding something (checks that raise) carries logic: still reported.
    checked = _RELEASE.replace(
        'assert self._connection is not None, "Connection is not acquired"',
        'if self._connection is None:\n            raise ConnectionError("not acquired")\n'
        "        if self._connection.closed:\n"
        '            raise ConnectionError("closed before its release")\n'
        "        if self._connection.in_transaction:\n"
        "            await self._connection.rollback()",
    )
    old["pkg/mysql.py"] = head.format("MySQLConnection") + checked
    new = {"pkg/aiopg.py": head.format("AiopgConnection") + checked}
    assert names(review(old, new)) == [{"MySQLConnection.release", "AiopgConnection.release"}]


_DEFAULT = """
    def _column_default(self, table, column, default, auto_now_add=False):
        default_str = " DEFAULT"
        if not auto_now_add:
            default_str += f" {default}"
        if auto_now_add:
            default_str += " CURRENT_TIMESTAMP"
        return default_str
"""


def test_a_short_identical_override_fills_each_classs_hook() -> None:
    # tortoise-orm's MSSQL and Oracle schema generators write the same DEFAULT clause for the
    # hook their base leaves to each dialect: a few lines each fills for its own SQL.
    base = (
        "class SchemaGenerator:\n    def _column_default(self, *args):\n        raise TypeError\n"
    )
    head = "from pkg.base import SchemaGenerator\n\nclass {}(SchemaGenerator):"
    old = {"pkg/base.py": base, "pkg/mssql.py": head.format("MSSQLSchemaGenerator") + _DEFAULT}
    new = {"pkg/oracle.py": head.format("OracleSchemaGenerator") + _DEFAULT}
    options = RedundancyOptions(min_tokens=5)
    assert review(old, new, options) == ()
    # Longer, the shared logic is worth one home: reported.
    longer = _DEFAULT.replace(
        "        return default_str",
        "        if column in self._generated:\n"
        '            default_str += " GENERATED"\n'
        "        return default_str",
    )
    old["pkg/mssql.py"] = head.format("MSSQLSchemaGenerator") + longer
    new = {"pkg/oracle.py": head.format("OracleSchemaGenerator") + longer}
    assert names(review(old, new, options)) == [
        {"MSSQLSchemaGenerator._column_default", "OracleSchemaGenerator._column_default"}
    ]


_LONG_DEFAULT = """
    def _column_default(self, table, column, default, auto_now_add=False, auto_now=False):
        default_str = " DEFAULT"
        if not (auto_now or auto_now_add):
            default_str += f" {{default}}"
        if auto_now_add:
            default_str += " {now}"
        if column in self._generated:
            default_str += " GENERATED"
        return default_str
"""


def test_two_variants_of_five_agreeing_are_no_copy_and_a_majority_is() -> None:
    # tortoise-orm: five dialects fill the DEFAULT clause their base leaves to each; MSSQL's
    # and Oracle's coincide, the others each write their own SQL. A base default would serve
    # two of five: each variant keeps its own.
    base = (
        "class SchemaGenerator:\n    def _column_default(self, *args):\n        raise TypeError\n"
    )
    head = "from pkg.base import SchemaGenerator\n\nclass {}(SchemaGenerator):"
    old = {"pkg/base.py": base}
    for dialect, now in (
        ("MSSQL", "CURRENT_TIMESTAMP"),
        ("MySQL", "CURRENT_TIMESTAMP(6)"),
        ("Postgres", "now()"),
        ("Sqlite", "(datetime('now'))"),
    ):
        old[f"pkg/{dialect.lower()}.py"] = head.format(f"{dialect}Gen") + _LONG_DEFAULT.format(
            now=now
        )
    oracle = head.format("OracleGen") + _LONG_DEFAULT.format(now="CURRENT_TIMESTAMP")
    options = RedundancyOptions(min_tokens=5)
    assert review(old, {"pkg/oracle.py": oracle}, options) == ()
    # Three of four agreeing, the base is where that code belongs: the copy is reported.
    del old["pkg/sqlite.py"]
    old["pkg/mysql.py"] = head.format("MySQLGen") + _LONG_DEFAULT.format(now="CURRENT_TIMESTAMP")
    found = names(review(old, {"pkg/oracle.py": oracle}, options))
    assert found == [
        {"MSSQLGen._column_default", "MySQLGen._column_default", "OracleGen._column_default"}
    ]


_RUN = """
    async def run(self):
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except BaseException:
            self.logger.exception("Exception in application")
            self.send_error_response()
            self.transport.close()
        else:
            if not self.handshake_complete:
                self.logger.error("returned without completing the handshake")
                self.send_error_response()
                self.transport.close()
            elif result is not None:
                self.logger.error("should return None, but returned %r", result)
                self.transport.close()
"""
_ERROR_WSPROTO = """
    def send_error_response(self):
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        event = events.RejectConnection(status_code=500, headers=headers, has_body=True)
        self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(events.RejectData(data=b"Internal Server Error")))
"""
_ERROR_SANSIO = """
    def send_error_response(self):
        msg = b"Internal Server Error"
        content = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(msg)))]
        response = self.conn.reject(500, msg.decode())
        response.headers.update(content)
        self.conn.send_response(response)
        self.transport.write(b"".join(self.conn.data_to_send()))
"""


def test_a_skeleton_calling_its_own_classes_hooks_is_still_a_copy() -> None:
    # Calls through self are not read as rebinding: one loop or handler around each class's
    # own hooks is what a base class with a template method is for.
    head = "import asyncio\n\nclass {}(asyncio.Protocol):"
    old = {"pkg/wsproto.py": head.format("WSProtocol") + _RUN + _ERROR_WSPROTO}
    new = {"pkg/sansio.py": head.format("SansIOProtocol") + _RUN + _ERROR_SANSIO}
    assert {"WSProtocol.run", "SansIOProtocol.run"} in names(review(old, new))


_WALK = """
def find_evaluated(validator, instance, schema):
    if validator.is_type(schema, "boolean"):
        return []
    found = []
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, ()):
            if next(validator.descend(instance, subschema), None) is None:
                found += find_evaluated(validator, instance, subschema)
    return found
"""
_LEGACY_WALK = _WALK.replace('("allOf", "oneOf", "anyOf")', '("allOf", "anyOf")')
_UNEVALUATED = """
def unevaluated_items(validator, unevaluated, instance, schema):
    if not validator.is_type(instance, "array"):
        return
    indexes = find_evaluated(validator, instance, schema)
    unexpected = [item for index, item in enumerate(instance) if index not in indexes]
    if unexpected:
        error = "Unevaluated items are not allowed (%s unexpected)"
        yield ValidationError(error % ", ".join(repr(each) for each in unexpected))
"""


def test_a_copy_calling_its_own_modules_version_of_a_helper_is_another_drafts() -> None:
    # jsonschema's unevaluatedItems_draft2019 ~ unevaluatedItems: one text, but the drafts'
    # module (_legacy_validators.py there) calls its own draft-2019 walker, the current one
    # the walker it imports.
    old = {
        "pkg/__init__.py": "",
        "pkg/utils.py": _WALK,
        "pkg/validators.py": "from pkg.utils import find_evaluated\n" + _UNEVALUATED,
    }
    new = {"pkg/drafts.py": _LEGACY_WALK + _UNEVALUATED.replace("items(", "items_draft2019(")}
    assert not any("unevaluated_items" in n for found in names(review(old, new)) for n in found)
    # Importing the very walker the other calls, the copy is a copy: reported.
    new = {
        "pkg/drafts.py": "from pkg.utils import find_evaluated\n"
        + _UNEVALUATED.replace("items(", "items_draft2019(")
    }
    assert {"unevaluated_items", "unevaluated_items_draft2019"} in names(review(old, new))
    # A copy calling a name its module does not bind (carried over without its import) says
    # nothing of what runs there: reported.
    new = {"pkg/drafts.py": _UNEVALUATED.replace("items(", "items_draft2019(")}
    assert {"unevaluated_items", "unevaluated_items_draft2019"} in names(review(old, new))


_LOCALE = """
class Locale:
    timeframes = {}

    def _format_timeframe(self, timeframe, delta):
        return self.timeframes[timeframe].format(trunc(abs(delta)))
"""
_PLURAL = """
    def _format_timeframe(self, timeframe, delta):
        form = self.timeframes[timeframe]
        delta = abs(delta)
        if isinstance(form, dict):
            if 1 < delta % 10 < 5 and not 11 < delta % 100 < 15:
                form = form["double"]
            else:
                form = form["higher"]
        return form.format(delta)
"""


def _locales(names: list[str], plural: set[str]) -> str:
    """One class per language, some overriding the plural rule."""
    out = [_LOCALE]
    for name in names:
        out.append(f"\nclass {name}Locale(Locale):\n    names = [{name.lower()!r}]\n")
        if name in plural:
            out.append(_PLURAL)
    return "".join(out)


def test_two_entries_of_a_table_of_variants_that_coincide_are_its_idiom() -> None:
    # arrow's locales: one class per language; Serbian's plural rule, added by the batch, is
    # Croatian's. With a dozen languages each entry is kept whole on purpose.
    languages = [
        "Croatian",
        "English",
        "French",
        "German",
        "Italian",
        "Dutch",
        "Polish",
        "Czech",
        "Slovak",
        "Swedish",
        "Danish",
    ]
    old = {"pkg/locales.py": _locales(languages, {"Croatian", "Polish"})}
    new = {"pkg/locales.py": _locales([*languages, "Serbian"], {"Croatian", "Polish", "Serbian"})}
    by = {"SerbianLocale._format_timeframe": "#1", "SerbianLocale": "#1"}
    assert review(old, new, by=by) == ()
    # Among three implementations of an interface, the same two overrides are the copy to
    # pull into the base (Flask and Blueprint).
    old = {"pkg/locales.py": _locales(languages[:2], {"Croatian"})}
    new = {"pkg/locales.py": _locales([*languages[:2], "Serbian"], {"Croatian", "Serbian"})}
    assert names(review(old, new, by=by)) == [
        {"CroatianLocale._format_timeframe", "SerbianLocale._format_timeframe"}
    ]


_MIXIN = """
from functools import partial


class MiddlewareMixin:
    def __init__(self):
        self._future_middleware = []

    def middleware(self, middleware_or_request, attach_to="request", apply=True):
        def register(middleware, attach_to="request"):
            future = FutureMiddleware(middleware, attach_to)
            self._future_middleware.append(future)
            if apply:
                self._apply_middleware(future)
            return middleware

        if callable(middleware_or_request):
            return register(middleware_or_request, attach_to=attach_to)
        return partial(register, attach_to=middleware_or_request)
"""
_GROUP = """
from functools import partial


class BlueprintGroup(list):
    def middleware(self, *args, **kwargs):
        def register_for_blueprints(fn):
            for blueprint in self:
                blueprint.middleware(fn, *args, **kwargs)

        if args and callable(args[0]):
            return register_for_blueprints(args[0])
        return register_for_blueprints
"""
_ON_REQUEST = """
    def on_request(self, middleware=None):
        if callable(middleware):
            return self.middleware(middleware, "request")
        else:
            return partial(self.middleware, attach_to="request")
"""


def test_identical_sugar_over_each_classes_own_method_runs_two_codes() -> None:
    # sanic's BlueprintGroup.on_request, copied from MiddlewareMixin.on_request: one line of
    # sugar over two different ``middleware`` methods.
    old = {"pkg/mixins.py": _MIXIN + _ON_REQUEST}
    new = {"pkg/group.py": _GROUP + _ON_REQUEST}
    assert review(old, new) == ()
    group = _GROUP.replace("from functools import partial\n", "")
    assert review({}, {"pkg/mixins.py": _MIXIN + _ON_REQUEST + group + _ON_REQUEST}) == ()
    # Over a ``middleware`` the two classes share (an identical copy elsewhere), the sugar
    # runs one code twice: a copy.
    shared = _GROUP.replace("class BlueprintGroup(list):", "class BlueprintGroup(list):\n    x = 1")
    old = {"pkg/mixins.py": _GROUP.replace("BlueprintGroup", "MiddlewareMixin") + _ON_REQUEST}
    new = {"pkg/group.py": shared + _ON_REQUEST}
    assert {"MiddlewareMixin.on_request", "BlueprintGroup.on_request"} in names(review(old, new))
    # Sugar that guards its call (a ``try``) is a skeleton: still a copy.
    guarded = _ON_REQUEST.replace(
        '            return self.middleware(middleware, "request")',
        '            try:\n                return self.middleware(middleware, "request")\n'
        "            except TypeError:\n                return None",
    )
    # (Side by side in one module: eight lines of two classes of two modules are each class's
    # own, see test_a_short_identical_method_of_classes_in_two_modules_is_each_classs_own.)
    new = {"pkg/mixins.py": _MIXIN + guarded + group + guarded}
    assert names(review({}, new)) == [{"MiddlewareMixin.on_request", "BlueprintGroup.on_request"}]


_PREDICATE = """
class {name}:
    def __init__(self, val, config):
        self.val = val

    def text(self):
        return "{label} = %s" % (self.val,)

    phash = text

    def __call__(self, context, request):
        return request.{attr} == self.val
"""


def test_a_test_modules_class_stands_in_for_a_package_class() -> None:
    # pyramid's IsAuthenticatedPredicate and the test package's Yup predicate: the test's
    # class is shaped like the package's because it plugs into the same slot.
    package = _PREDICATE.format(
        name="IsAuthenticatedPredicate", label="is_authenticated", attr="is_authenticated"
    )
    # Renamed only, so that the same class outside tests is a copy (an edited class of
    # another module is that module's own variant).
    fixture = _PREDICATE.format(name="Yup", label="is_authenticated", attr="is_authenticated")
    old = {"pkg/predicates.py": package}
    new = {"tests/pkgs/eventonly/__init__.py": fixture}
    assert review(old, new) == ()
    # The same class in an example is what users copy: still a copy of the package's.
    new = {"examples/predicates.py": fixture}
    assert names(review(old, new)) == [{"IsAuthenticatedPredicate", "Yup"}]


_ROPE_TEST = """
import unittest


class {cls}(unittest.TestCase):
    def setUp(self):
        self.project = testutils.sample_project()

    def test_loading_{what}(self):
        config = self.project.root.create_file("{name}")
        config.write({text!r})
        self.project.close()
        self.project = Project(self.project.address)
        self.assertTrue(self.project.is_ignored(self.project.get_file("{probe}")))
"""


def test_a_unittest_case_is_a_test_wherever_its_module_lives() -> None:
    # rope keeps its tests in ropetest/projecttest.py: neither the folder nor the module
    # follows pytest's names, but each class derives from unittest.TestCase.
    old = {
        "ropetest/projecttest.py": _ROPE_TEST.format(
            cls="RopeFolderTest",
            what="config_dot_py",
            name="config.py",
            text="def set_prefs(prefs):\n    prefs['ignored'] = ['*.pyc']\n",
            probe="x.pyc",
        )
    }
    new = {
        "ropetest/configtest.py": _ROPE_TEST.format(
            cls="PyprojectTest",
            what="pyproject",
            name="pyproject.toml",
            text="[tool.rope]\nignored_resources = ['*.pyc']\n",
            probe="y.pyc",
        )
    }
    assert review(old, new) == ()
    assert names(review(old, new, RedundancyOptions(include_tests=True))) != []


_FS_COMMANDS = """
class {cls}:
    def __init__(self):
        self.fscommands = FileSystemCommands()
        self.log = ""

    def create_file(self, path):
        self.log += "create_file "
        self.fscommands.create_file(path)

    def create_folder(self, path):
        self.log += "create_folder "
        self.fscommands.create_folder(path)

    def move(self, path, new_location):
        self.log += "move "
        self.fscommands.move(path, new_location)

    def remove(self, path):
        self.log += "remove "
        self.fscommands.remove(path)
{extra}"""


def test_the_fixtures_of_a_unittest_module_are_test_code_wherever_it_lives() -> None:
    # rope's ropetest/projecttest.py keeps a mock of its file-system commands and a variant
    # of it without read() beside its TestCase: fixtures of that test, not package code.
    read = "\n    def read(self, path):\n        return self.fscommands.read(path)\n"
    mocks = _FS_COMMANDS.format(cls="_MockFSCommands", extra=read) + _FS_COMMANDS.format(
        cls="_DeprecatedFSCommands", extra=""
    )
    case = _ROPE_TEST.format(
        cls="ProjectTest", what="fscommands", name="a.py", text="x = 1\n", probe="a.pyc"
    )
    assert review({}, {"ropetest/projecttest.py": case + mocks}) == ()
    # Beside no test, the same two classes are package code: reported.
    assert names(review({}, {"ropetest/projecttest.py": mocks})) == [
        {"_MockFSCommands", "_DeprecatedFSCommands"}
    ]


_TAKE = """
class {name}(list):
    def {method}(self, item):
        if item is None:
            raise ValueError("no item")
        self.seen.add(id(item))
        return super().append(item)
"""


def test_a_builtin_base_has_the_methods_python_gives_it() -> None:
    # Two lists' identical ``append`` fill a hook list defines: each class's own, short.
    one, other = (_TAKE.format(name=n, method="append") for n in ("Queue", "Stack"))
    options = RedundancyOptions(min_tokens=5)
    assert review({"pkg/queue.py": one}, {"pkg/stack.py": other}, options) == ()
    # ``take`` is no method of list: the two classes wrote one helper twice.
    one, other = (_TAKE.format(name=n, method="take") for n in ("Queue", "Stack"))
    assert names(review({"pkg/queue.py": one}, {"pkg/stack.py": other}, options)) == [
        {"Queue.take", "Stack.take"}
    ]


_COMMAND = """
from cleo.commands.command import Command as BaseCommand


class Command(BaseCommand):
    def option_or_default(self, name):
        return self.option(name) or self.defaults[name]
"""
_SOURCE_COMMAND = """
from pkg.command import Command


class {name}(Command):
    @staticmethod
    def {helper}(source):
        source_table = table()
        for key, value in source.to_dict().items():
            source_table.add(key, value)
        source_table.add(nl())
        return source_table

    def handle(self):
        return self.line("{name}")
"""


def test_a_helper_two_of_a_frameworks_many_subclasses_define_is_no_hook() -> None:
    # poetry's SourceAddCommand and SourceRemoveCommand each define the same source_to_table;
    # cleo's Command, far up, is a class idealdiff cannot read, but most of poetry's commands
    # do not define that name: it is no hook of cleo's, it is one helper written twice.
    old = {
        "pkg/__init__.py": "",
        "pkg/command.py": _COMMAND,
        "pkg/add.py": _SOURCE_COMMAND.format(name="SourceAddCommand", helper="source_to_table"),
        "pkg/show.py": _SOURCE_COMMAND.format(name="SourceShowCommand", helper="describe"),
        "pkg/lock.py": _SOURCE_COMMAND.format(name="LockCommand", helper="locked"),
    }
    remove = _SOURCE_COMMAND.format(name="SourceRemoveCommand", helper="source_to_table")
    options = RedundancyOptions(min_tokens=5)
    assert {"SourceAddCommand.source_to_table", "SourceRemoveCommand.source_to_table"} in names(
        review(old, {"pkg/remove.py": remove}, options)
    )
    # Every command defining it, it is the framework's hook, each filling it for itself.
    for path in ("pkg/show.py", "pkg/lock.py"):
        old[path] = (
            old[path].replace("describe", "source_to_table").replace("locked", "source_to_table")
        )
    found = names(review(old, {"pkg/remove.py": remove}, options))
    assert not any("SourceRemoveCommand.source_to_table" in f for f in found)


def _describe(name: str, extra: str) -> str:
    """A backend's per-resource describe call: the lookup all of them write, and ``extra``."""
    return f'''
def describe_{name}(self, {name}_id, region):
    {name} = self.{name}s.get({name}_id)
    if {name} is None:
        raise ResourceNotFound("{name}", {name}_id)
    if {name}.region != region:
        raise WrongRegion(region, {name}.region)
    result = {name}.to_dict()
    result["Region"] = region
    result["Arn"] = make_arn(region, "{name}", {name}_id)
{textwrap.indent(textwrap.dedent(extra), "    ")}
    return result
'''


def test_a_slice_of_a_template_family_is_not_a_finding() -> None:
    # A change adds two sibling handlers side by side, each filling in the backend's describe
    # template like the older queue handler (scrapy's per-codec decompressors beside gunzip).
    # Reporting the queue handler with one of them would pick one slice of the family: the
    # other sibling holds all they share and is as close to them as they are to each other.
    queues = _describe("queue", 'result["Url"] = queue_url(queue)\nresult["Fifo"] = queue.fifo\n')
    streams = _describe(
        "stream", 'if stream.encrypted:\n    log.debug("encrypted %s", stream_id)\n'
    )
    shards = _describe("shard", 'if shard.closed:\n    log.debug("closed %s", shard_id)\n')
    old = {"svc/queues.py": queues}
    assert review(old, {"svc/streams.py": streams + shards}) == ()
    # A copy of the queue handler, closer to it than the siblings are, is still a copy.
    copy = queues.replace("queue", "stream")
    found = review(old, {"svc/streams.py": copy + shards})
    assert names(found) == [{"describe_queue", "describe_stream"}]


def _router(resource: str, model: str) -> str:
    """One resource's API module: its own router and a thin update endpoint on it."""
    return f'''
from ninja import Router

router = Router(tags=["{resource}s"])


@router.patch("/{{{resource}_id}}/", response={model}Schema, url_name="update_{resource}")
@require_permission({model}, "change")
def update_{resource}(request, {resource}_id: int, data: {model}PatchSchema):
    {resource} = get_object_or_404({model}, pk={resource}_id)
    form = build_{resource}_update_form({resource}, data, request.user)
    action = action_registry.get_action_class({model}, "edit")(form.instance, user=request.user)
    action.execute()
    log_action(request.user, {resource}, "{resource}.edited")
    return form.instance
'''


def test_endpoints_each_module_registers_on_its_own_router_are_the_framework_idiom() -> None:
    # wagtail's documents and images APIs: one thin endpoint per resource and verb, each on its
    # module's own router, alike by design.
    documents = {"api/documents/router.py": _router("document", "Document")}
    images = {"api/images/router.py": _router("image", "Image")}
    assert review(documents, images) == ()
    # The same body as a helper, outside any registration, is still a copy.
    helpers = {p: t.replace("@router.patch", "# @router.patch") for p, t in images.items()}
    unregistered = {p: t.replace("@router.patch", "# @router.patch") for p, t in documents.items()}
    found = review(unregistered, helpers)
    assert names(found) == [{"update_document", "update_image"}]


def _comparator(attr: str, extra: str) -> str:
    """A migration tool's per-attribute comparator: the user hook all of them call, and
    ``extra``."""
    return f"""
def compare_{attr}(context, op, conn_col, metadata_col):
    user_hook = context.opts.get("compare_{attr}")
    if user_hook is None:
        return None
    rendered = user_hook(context, conn_col.{attr}, metadata_col.{attr})
{textwrap.indent(textwrap.dedent(extra), "    ")}
    if rendered:
        op.modify_{attr} = metadata_col.{attr}
    return rendered
"""


def test_a_sibling_closer_than_the_pair_makes_it_a_slice_of_a_family() -> None:
    # One branch writes the type and nullable comparators side by side; another adds the
    # server-default one elsewhere (alembic's per-attribute comparators). The new one shares
    # a statement with the type comparator that the nullable one lacks, so the nullable one
    # does not hold every shape of the pair; it is still closer to the type comparator than
    # the new one is: the three are one family, and the pair is an arbitrary slice of it.
    rest = "if rendered is False:\n    return None\nfor name in op.names:\n    op.rename(name)\n"
    kind = _comparator("type", "audit.record(op, rendered)\n" + rest)
    nullable = _comparator("nullable", "rendered = bool(rendered)\n" + rest)
    default = _comparator(
        "server_default",
        "audit.record(op, rendered)\nmetrics.count(op)\n"
        "with op.batch() as batch:\n    batch.flush(rendered)\n",
    )
    by = {
        "compare_type": "#1",
        "compare_nullable": "#1",
        "compare_server_default": "#2",
        "compare_comment": "#2",
    }
    new = {"cmp/types.py": kind + nullable, "cmp/defaults.py": default}
    assert review({}, new, by=by) == ()
    # A copy closer to the type comparator than its sibling is still a copy.
    copied = {**new, "cmp/defaults.py": kind.replace("type", "comment")}
    assert names(review({}, copied, by=by)) == [{"compare_type", "compare_comment"}]


ARRAY_LIKE = """
def _is_array_like(obj):
    if obj is None or isinstance(obj, (str, bytes)):
        return False
    if not hasattr(obj, "__array_function__") and not hasattr(obj, "__array_namespace__"):
        return False
    dims = getattr(obj, "ndim", None)
    return dims is not None and dims >= 0
"""


def test_a_function_of_three_statements_holds_no_concept_of_its_own() -> None:
    # xarray's is_duck_array beside _is_scalar: a guard and one boolean return of hasattr
    # checks share the protocol names with an older predicate, and that is all there is.
    predicate = """
def is_duck_array(value):
    if value is None or isinstance(value, (str, bytes, bytearray, memoryview)):
        return False
    return (
        hasattr(value, "__array_function__") or hasattr(value, "__array_namespace__")
    ) and getattr(value, "ndim", None) is not None and getattr(value, "dtype", None) is not None
"""
    old = {"pkg/utils.py": ARRAY_LIKE, "pkg/retry.py": HELPER}
    assert review(old, {"pkg/named/utils.py": predicate}) == ()
    # Written out in statements of its own around the older guard, the same check is a
    # concept the two share.
    written_out = """
def is_duck_array(obj):
    if obj is None or isinstance(obj, (str, bytes)):
        return False
    protocol = hasattr(obj, "__array_function__") or hasattr(obj, "__array_namespace__")
    if not protocol:
        return False
    return hasattr(obj, "ndim") and hasattr(obj, "shape") and hasattr(obj, "dtype")
"""
    found = review(old, {"pkg/named/utils.py": written_out})
    assert names(found) == [{"_is_array_like", "is_duck_array"}]
    assert found[0].clone_type == "concept"


def _action(cls: str, name: str, error: str, params: list[str], extra: str) -> str:
    """One REST action of a resource, declared to the CLI and to the error mapper."""
    sets = "".join(
        f"""
        if {p} is not None:
            data["{p}"] = {p}"""
        for p in params
    )
    return f'''
class {cls}(SaveMixin, RESTObject):
    @cli.register_custom_action(cls_names="{cls}", optional={tuple(params)!r})
    @exc.on_http_error(exc.{error})
    def {name}(self, {", ".join(p + "=None" for p in params)}, **kwargs):
        """Run the {name} action of this resource."""
        path = f"{{self.manager.path}}/{{self.encoded_id}}/{name}"
        data = {{}}{sets}
{textwrap.indent(textwrap.dedent(extra), "        ")}
        server_data = self.manager.gitlab.http_put(path, post_data=data, **kwargs)
        if TYPE_CHECKING:
            assert isinstance(server_data, dict)
        self._update_attrs(server_data)
        return server_data
'''


def test_actions_one_decorator_declares_each_with_its_own_arguments_are_an_api() -> None:
    # python-gitlab: one method per REST action, each declared to the CLI with its own
    # resource and parameters, and to the error mapper with its own error.
    issues = _action(
        "ProjectIssue",
        "reorder",
        "GitlabUpdateError",
        ["move_after_id", "move_before_id"],
        "log.debug('reorder %s', path)\n",
    )
    merges = _action(
        "ProjectMergeRequest",
        "merge",
        "GitlabMRClosedError",
        ["merge_commit_message", "should_remove_source_branch", "squash"],
        "if self.draft:\n    raise exc.GitlabMRClosedError('draft')\n",
    )
    old = {"gitlab/objects/issues.py": issues, "pkg/retry.py": HELPER}
    assert review(old, {"gitlab/objects/merge_requests.py": merges}) == ()
    # The same two bodies, declared by nothing, are two copies of one request.
    plain = {"gitlab/objects/issues.py": issues.replace("    @", "    # @"), "pkg/retry.py": HELPER}
    found = review(plain, {"gitlab/objects/merge_requests.py": merges.replace("    @", "    # @")})
    assert names(found) == [{"ProjectIssue.reorder", "ProjectMergeRequest.merge"}]


def test_a_small_edited_copy_is_a_variant_and_a_dense_one_a_copy() -> None:
    # xarray's _iter_nc_groups beside _iter_zarr_groups: a recursive walker per storage library,
    # each reading its own API. Eight short lines with an edit need a parameter per edit.
    netcdf = """
def iter_nc_groups(root, parent="/"):
    parent = str(parent)
    yield parent
    for path, group in root.groups.items():
        gpath = parent.rstrip("/") + "/" + path
        yield from iter_nc_groups(group, parent=gpath)
"""
    zarr = """
def iter_zarr_groups(root, parent="/"):
    parent = str(parent)
    yield parent
    for path, group in root.groups():
        gpath = parent.rstrip("/") + "/" + path
        yield from iter_zarr_groups(group, parent=gpath)
"""
    assert review({"pkg/netcdf.py": netcdf}, {"pkg/zarr.py": zarr}) == ()
    # The same walker filtering, sorting and logging what it yields is logic worth one home.
    more = """
        if group.attrs.get("hidden"):
            log.debug("skipping hidden group %s at depth %d", gpath, depth)
            continue
        children = sorted(group.name for group in group.members if group.visible)
        log.debug("walking %s with %d children below %s", gpath, len(children), root)
"""

    def longer(text: str) -> str:
        head, tail = text.split('        gpath = parent.rstrip("/") + "/" + path\n')
        return head + '        gpath = parent.rstrip("/") + "/" + path\n' + more[1:] + tail

    found = review({"pkg/netcdf.py": longer(netcdf)}, {"pkg/zarr.py": longer(zarr)})
    assert names(found) == [{"iter_nc_groups", "iter_zarr_groups"}]


def _add_parser(command: str, extra: str) -> str:
    """One command's argparse set-up, in dvc's style: a table of ``add_argument`` calls."""
    return f'''
def add_parser(subparsers, parent_parser):
    """Setup parser for dvc exp {command}."""
    parser = subparsers.add_parser("{command}", parents=[parent_parser], help="{command} it")
    parser.add_argument("git_remote", help="Git remote name or Git URL.", metavar="<git_remote>")
    parser.add_argument("-A", "--all-commits", action="store_true", help="All commits.")
    parser.add_argument("--rev", type=str, default=None, help="Experiments derived from rev.")
    parser.add_argument("-n", "--num", type=int, default=1, dest="num", metavar="<num>")
    parser.add_argument("-f", "--force", action="store_true", help="Replace experiments.")
    parser.add_argument("-j", "--jobs", type=int, metavar="<number>", help="Parallel jobs.")
    parser.add_argument("-r", "--remote", dest="dvc_remote", metavar="<name>", help="Remote.")
{extra}
    parser.set_defaults(func=CmdExperiments{command.title()})
'''


def test_argument_tables_of_sibling_commands_declare_each_its_own_options() -> None:
    # dvc's `exp pull` and `exp push`: the same flags with direction-specific help texts; the
    # set-ups are tables of one API's calls, not logic written twice.
    pull = _add_parser(
        "pull",
        '    parser.add_argument("--no-cache", action="store_false", dest="pull_cache", '
        'help="Do not pull cached outputs.")',
    )
    push = _add_parser(
        "push",
        '    parser.add_argument("--no-cache", action="store_false", dest="push_cache", '
        'help="Do not push cached outputs.")',
    )
    assert review({"dvc/commands/pull.py": pull}, {"dvc/commands/push.py": push}) == ()


def _plugin(name: str, api: str, check: str) -> str:
    """One site's plugin, in streamlink's style: a subclass of the package's ``Plugin``."""
    return f'''
from streamlink.plugin import Plugin


class {name}(Plugin):
    def _get_live(self, channel):
        """The HLS streams of a live channel, unless the site blocks this country."""
        url = f"https://{api}/api/channels/{{channel}}/stream"
        data = self.session.http.get(url, schema=self._schema).json()
        if data.get("{check}"):
            log.error("This stream is not available in your country")
            return None
        source = data.get("source") or data.get("url")
        if not source:
            raise PluginError(f"no stream for {{channel!r}} at {{url}}")
        return HLSStream.parse_variant_playlist(self.session, source)
'''


def test_helpers_of_two_entries_of_a_table_of_plugins_are_each_sites_own() -> None:
    base = "class Plugin:\n    def streams(self):\n        return self._get_streams()\n"
    sites = {
        f"pkg/plugins/site{n}.py": "from streamlink.plugin import Plugin\n\n\n"
        f"class Site{n}(Plugin):\n"
        f"    def _get_streams(self):\n        return self.session.http.get('{n}')\n"
        for n in range(TABLE)
    }
    old = {"pkg/plugin.py": base, **sites, "pkg/plugins/ruv.py": _plugin("Ruv", "ruv.is", "geo")}
    new = {"pkg/plugins/tvp.py": _plugin("TVP", "tvp.pl", "isGeoBlocked")}
    assert review(old, new) == ()
    # Two plugins of a package with few of them: the copied helper is the drift.
    few = {k: v for k, v in old.items() if not k.startswith("pkg/plugins/site")}
    assert names(review(few, new)) == [{"Ruv._get_live", "TVP._get_live"}]


def _subcommand(name: str, body: str) -> str:
    """One script of a command-line tool, registering its own subcommand (qtile's style)."""
    return f'''
import argparse
import os


def add_subcommand(subparsers, parents):
    """Register the {name} subcommand."""
    parser = subparsers.add_parser("{name}", parents=parents, help="{name} the window manager")
    parser.add_argument(
        "-c",
        "--config",
        action="store",
        default=os.path.expanduser(
            os.path.join(os.getenv("XDG_CONFIG_HOME", "~/.config"), "qtile", "config.py")
        ),
        dest="configfile",
        help="Use the specified configuration file.",
    )
{body}
    parser.set_defaults(func={name})
'''


def test_a_same_concept_pair_of_a_folders_interface_is_no_drift_even_when_new() -> None:
    # qtile's scripts: a batch moves each command into a module of libqtile/scripts/, each with
    # its own add_subcommand; two of them share the --config option and its default path.
    start = _subcommand(
        "start",
        '    parser.add_argument("-b", "--backend", default="x11", dest="backend", '
        'help="Use the specified backend.")\n'
        '    if os.environ.get("WAYLAND_DISPLAY"):\n'
        '        parser.set_defaults(backend="wayland")',
    )
    check = _subcommand(
        "check",
        '    for flag in ("--strict", "--lenient"):\n'
        '        parser.add_argument(flag, action="store_true", help=f"Check {flag[2:]}ly.")\n'
        '    parser.epilog = "Validate the configuration file and exit."',
    )
    shell = "def add_subcommand(subparsers, parents):\n    subparsers.add_parser('shell')\n"
    new = {"libqtile/scripts/start.py": start, "libqtile/scripts/check.py": check}
    found = review({}, new)
    assert [f.clone_type for f in found] == ["concept"]
    assert review({}, {**new, "libqtile/scripts/shell.py": shell}) == ()


_GUARD = """
    def dispatch(self, request, *args, **kwargs):
        page = get_object_or_404(Page, id=kwargs["page_id"])
        if not page.permissions_for_user(request.user).can_edit():
            raise PermissionDenied
        self.page = page
        return super().dispatch(request, *args, **kwargs)
"""


def test_a_few_identical_lines_filling_a_hook_the_repository_implements_otherwise() -> None:
    # wagtail's page views: the same edit-permission guard in two views' `dispatch`, a name
    # Django's views fill each in its own way (here two other views do).
    history = "class WorkflowHistoryMixin:" + _GUARD
    usage = "from wagtail.admin.views.generic import IndexView\n\nclass UsageView(IndexView):"
    others = """
class RevisionsView(View):
    def dispatch(self, request, *args, **kwargs):
        self.revision = get_object_or_404(Revision, id=kwargs["revision_id"])
        return super().dispatch(request, *args, **kwargs)


class LockView(View):
    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return super().dispatch(request, *args, **kwargs)
"""
    old = {"pkg/history.py": history, "pkg/other.py": others}
    new = {"pkg/usage.py": usage + _GUARD}
    assert review(old, new) == ()
    # Implementations the batch adds make no hook yet: the batch writing the name three ways
    # is what the review is for.
    assert names(review({"pkg/history.py": history}, {**new, "pkg/other.py": others})) == [
        {"WorkflowHistoryMixin.dispatch", "UsageView.dispatch"}
    ]
    # Where no other unit implements the name, the few lines are a copy like any other.
    del old["pkg/other.py"]
    assert names(review(old, new)) == [{"WorkflowHistoryMixin.dispatch", "UsageView.dispatch"}]


def _exchange(verb: str) -> str:
    """One direction of dvc's experiment exchange with a Git remote."""
    where = "from" if verb == "pull" else "to"
    return f'''
def {verb}_experiments(repo, git_remote, exp_names, all_commits=False, rev=None, jobs=None):
    """{verb.title()} experiments between the workspace and a Git remote."""
    if not exp_names and not all_commits and not rev:
        raise InvalidArgumentError("Provide an `experiment`, or use `--rev` or `--all-commits`.")
    exps = repo.experiments.{verb}(
        git_remote, exp_names, all_commits=all_commits, rev=rev, {verb}_cache=True, jobs=jobs
    )
    if exps:
        ui.write(f"{verb.title()}ed experiments {{exps}} {where} Git remote {{git_remote}}.")
    else:
        ui.write("No experiments to {verb}.")
    for name in exps:
        logger.info("%s: %s", name, "{verb}ed")
    return exps
'''


def test_a_pull_and_its_push_are_opposite_operations() -> None:
    # dvc's `exp pull` and `exp push`: alike but for the direction.
    old = {"dvc/repo/sync.py": _exchange("pull"), "dvc/utils.py": HELPER}
    assert review(old, {"dvc/commands/remote.py": _exchange("push")}) == ()
    # The same edits under a name that is no opposite make a copy.
    fetch = _exchange("push").replace("push_experiments", "fetch_experiments")
    assert names(review(old, {"dvc/commands/remote.py": fetch})) == [
        {"pull_experiments", "fetch_experiments"}
    ]


def test_a_concept_shared_with_older_code_needs_a_statement_in_common() -> None:
    # The demo's model listings: the same job in code of its own. Written by two branches of
    # one batch, it is the drift the review is for; written against older code, vocabulary
    # alone is what two jobs of one domain share, and a unit re-implementing another keeps some
    # of its statements.
    new = {"chatkit/registry.py": demo.REGISTRY, "chatkit/cli.py": demo.CLI_MODELS}
    found = review({}, new, by={"ModelRegistry.discover": "#12", "cmd_models": "#19"})
    assert names(found) == [{"ModelRegistry.discover", "cmd_models"}]
    assert found[0].clone_type == "concept"
    older = {"chatkit/registry.py": demo.REGISTRY}
    assert review(older, {"chatkit/cli.py": demo.CLI_MODELS}) == ()
    listed = '    names = [model["name"] for model in data.get("models", [])]\n'
    printed = '        print(model["name"])\n'
    kept = demo.CLI_MODELS.replace(printed, printed + listed)
    found = review(older, {"chatkit/cli.py": kept})
    assert names(found) == [{"ModelRegistry.discover", "cmd_models"}]


def _alias_map(entity: str, extra: str) -> str:
    """One of mealie's lazily built name-to-entity maps, for ``entity``."""
    return f"""
    @property
    def {entity}s_by_alias(self):
        if self._{entity}s_by_alias is None:
            found = {{}}
            for item in self.{entity}_repo.page_all(PaginationQuery(per_page=-1)).items:
                for name in (item.name, item.plural_name{extra}):
                    if name:
                        found[self.normalize(name)] = item
                for alias in item.aliases or []:
                    found[self.normalize(alias.name)] = item
            self._{entity}s_by_alias = found
        return self._{entity}s_by_alias
"""


def test_entries_of_two_parallel_families_keep_their_own_versions() -> None:
    # mealie's DataMatcher: one alias map per entity, beside one validator and one seeder per
    # entity; the food and unit versions of each operation are the design.
    matcher = (
        "class DataMatcher:"
        + _alias_map("food", "")
        + _alias_map("unit", ", item.abbreviation, item.plural_abbreviation")
    )
    parallels = """
def validate_food(food):
    return bool(food.name)


def validate_unit(unit):
    return bool(unit.name)


def food_seeder(session):
    return Seeder(session, "foods")


def unit_seeder(session):
    return Seeder(session, "units")
"""
    assert names(review({"pkg/retry.py": HELPER}, {"mealie/parser.py": matcher})) == [
        {"DataMatcher.foods_by_alias", "DataMatcher.units_by_alias"}
    ]
    old = {"pkg/retry.py": HELPER, "mealie/seed.py": parallels}
    assert review(old, {"mealie/parser.py": matcher}) == ()
    # Families the batch itself writes are no design of the repository yet: a branch that
    # copies a class for a second kind of record (sentry's log and metric batchers) is the
    # drift under review, and so is the copy of the capture code that comes with it.
    both = {"mealie/parser.py": matcher, "mealie/seed.py": parallels}
    assert names(review({"pkg/retry.py": HELPER}, both)) == [
        {"DataMatcher.foods_by_alias", "DataMatcher.units_by_alias"}
    ]


_DRIVER = """
class Base{kind}Driver(ABC):
    def __init__(self, model, retries=3, structure=None):
        self.model = model
        self.retries = retries
        self.structure = structure
        self.events = []

    def before_run(self, {arg}):
        if self.structure is not None:
            self.structure.publish(Start{kind}Event(model=self.model, {arg}={arg}))
        self.events.append(("start", {arg}))

    def after_run(self, result):
        if self.structure is not None:
            self.structure.publish(Finish{kind}Event(model=self.model, result=result))
        self.events.append(("finish", result))

    def run(self, {arg}):
        self.before_run({arg})
        result = self.try_{job}({arg})
        self.after_run(result)
        {extra}
        return result

    @abstractmethod
    def try_{job}(self, {arg}): ...
"""

_LOAD_SETTINGS = """
    def load_settings(self, path):
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError(f"{path} holds no settings")
        self.model = data.get("model", self.model)
        self.retries = int(data.get("retries", self.retries))
        for name, value in data.get("options", {}).items():
            setattr(self, name, value)
        return data
"""


def test_edited_classes_of_two_modules_are_compared_by_their_methods() -> None:
    # griptape's driver base per kind of driver: one shape, each with its own events, job and
    # arguments. Each module's own member of a family, not one class written twice.
    speech = _DRIVER.format(
        kind="TextToSpeech", arg="prompt", job="text_to_audio", extra="self.events.clear()"
    )
    transcription = _DRIVER.format(
        kind="AudioTranscription", arg="audio", job="audio_to_text", extra=""
    )
    old = {"pkg/drivers/speech/base.py": speech}
    assert review(old, {"pkg/drivers/transcription/base.py": transcription}) == ()
    # A method copied line for line between the two is still reported, as a method.
    old = {"pkg/drivers/speech/base.py": speech + _LOAD_SETTINGS}
    new = {"pkg/drivers/transcription/base.py": transcription + _LOAD_SETTINGS}
    assert names(review(old, new)) == [
        {"BaseTextToSpeechDriver.load_settings", "BaseAudioTranscriptionDriver.load_settings"}
    ]
    # The same two classes in one module: a class copied and edited there, reported whole.
    found = review({"pkg/drivers/base.py": speech}, {"pkg/drivers/base.py": speech + transcription})
    assert names(found) == [{"BaseTextToSpeechDriver", "BaseAudioTranscriptionDriver"}]


_STOP_REASONS = """
def normalize_stop_reason(stop_reason: str | None) -> FinishReasons:
    if stop_reason is None:
        return "unknown"

    # Convert to lower case for the lookup
    stop_reason = stop_reason.{clean}

    KNOWN_STOP_MAPPINGS: Dict[str, FinishReasons] = {{
{rows}
    }}

    return KNOWN_STOP_MAPPINGS.get(stop_reason, "unknown")
"""
_ANTHROPIC = [
    ("end_turn", "stop"),
    ("max_tokens", "length"),
    ("stop_sequence", "stop"),
    ("tool_use", "function_calls"),
]
_OPENAI = [
    ("stop", "stop"),
    ("length", "length"),
    ("content_filter", "content_filter"),
    ("function_calls", "function_calls"),
    ("tool_calls", "function_calls"),
]


def _stop_reasons(rows: list[tuple[str, str]], clean: str = "lower()") -> str:
    table = "\n".join(f'        "{key}": "{value}",' for key, value in rows)
    return _STOP_REASONS.format(clean=clean, rows=table)


def test_two_lookup_tables_of_their_own_data_are_not_one_copy() -> None:
    # autogen's stop reasons per model provider: one lookup, each provider's own entries.
    old = {"models/anthropic/_client.py": _stop_reasons(_ANTHROPIC)}
    assert review(old, {"models/_utils/stop_reason.py": _stop_reasons(_OPENAI)}) == ()
    # The same table, edited around it: a copy, still reported.
    copy = _stop_reasons(_ANTHROPIC, clean="strip().lower()")
    found = review(old, {"models/_utils/stop_reason.py": copy})
    assert [f.clone_type for f in found] == ["type-3"]
