"""The documentation site: the generated parameter reference, the hooks, and every runnable
Python block of ``docs/`` run as written against the sandbox.

The site itself is built by ``nox -s docs`` (``mkdocs build --strict``); these tests need no
mkdocs: the hooks import only the package.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

import ticketmaster_async
from ticketmaster_async import Settings, SyncTicketmasterClient, TicketmasterClient
from ticketmaster_async._endpoints import DETAIL, ENDPOINTS
from ticketmaster_async.testing import FakeDiscoveryAPI

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
RUNNABLE = "<!-- runnable -->"
_PYTHON_BLOCK = re.compile(
    r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S
)


def _hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", DOCS / "hooks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PARAMETERS = _hook("parameters")
CROSSREFS = _hook("crossrefs")


def _page(src_uri: str) -> Any:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


def _blocks() -> list[tuple[str, int, str, bool]]:
    """(page, index on the page, code, runnable) of every Python block in docs/."""
    found = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for index, match in enumerate(_PYTHON_BLOCK.finditer(text)):
            found.append((str(path.relative_to(DOCS)), index, match["code"], bool(match["mark"])))
    return found


BLOCKS = _blocks()
RUNNABLE_BLOCKS = [block for block in BLOCKS if block[3]]

# -- the parameter reference ------------------------------------------------------------------


def _tables(markdown: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """Rows of the generated tables by section title: (keyword, type, API name, doc)."""
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    title = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            title = line[3:]
            sections[title] = []
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|(?=(?:[^`]*`[^`]*`)*[^`]*$)", line)]
        if len(cells) == 6 and cells[1].startswith("`") and cells[3].startswith("`"):
            keyword = re.match(r"`(\w+)`", cells[1])
            assert keyword is not None, line
            sections[title].append(
                (keyword[1], cells[2].strip("`"), cells[3].strip("`"), cells[4].replace("\\|", "|"))
            )
    return sections


def test_every_described_parameter_has_its_row() -> None:
    tables = _tables(PARAMETERS.render())
    for name, endpoint in ENDPOINTS.items():
        expected = {
            (keyword, param.kind.type_doc(), param.api, param.doc)
            for keyword, param in endpoint.params.items()
        }
        titles = [title for title in tables if title.lower() == name]
        assert titles, f"no section for the {name} endpoint"
        rows = tables[titles[0]]
        assert set(rows) == expected, name
        assert len(rows) == len(expected), f"a row repeated in {name}"
    detail_rows = set(tables["Details"])
    for endpoint in DETAIL.values():
        expected = {
            (keyword, param.kind.type_doc(), param.api, param.doc)
            for keyword, param in endpoint.params.items()
        }
        assert expected <= detail_rows


def test_every_endpoint_names_methods_the_client_has() -> None:
    assert set(PARAMETERS.SEARCH_METHODS) == set(ENDPOINTS)
    assert set(PARAMETERS.DETAIL_METHODS) == set(DETAIL)
    rendered = PARAMETERS.render()
    names = [m for ms in PARAMETERS.SEARCH_METHODS.values() for m in ms]
    for method in [*names, *PARAMETERS.DETAIL_METHODS.values()]:
        assert callable(getattr(TicketmasterClient, method)), method
        assert f"[ticketmaster_async.TicketmasterClient.{method}]" in rendered
    for endpoint in DETAIL.values():
        assert f"`{endpoint.path}`" in rendered


def test_every_rule_between_parameters_is_written_out() -> None:
    rendered = PARAMETERS.render()
    assert "`radius` needs `near`." in rendered
    assert "`local_start` and `local_end` are sent together as one" in rendered
    assert "A `distance,...` sort needs `near`." in rendered
    for endpoint in ENDPOINTS.values():
        for rule in endpoint.rules:
            assert PARAMETERS.describe_rule(rule) in rendered

    class Undocumented:
        pass

    with pytest.raises(ValueError, match="no description for the rule"):
        PARAMETERS.describe_rule(Undocumented())


def test_the_hook_fills_the_parameter_page_and_leaves_the_others() -> None:
    source = (DOCS / PARAMETERS.PAGE).read_text(encoding="utf-8")
    assert source.count(PARAMETERS.MARKER) == 1
    out = PARAMETERS.on_page_markdown(source, page=_page(PARAMETERS.PAGE), config={}, files=[])
    assert PARAMETERS.MARKER not in out
    assert PARAMETERS.render() in out
    other = "text " + PARAMETERS.MARKER
    assert PARAMETERS.on_page_markdown(other, page=_page("index.md"), config={}, files=[]) == other
    with pytest.raises(ValueError, match="exactly once"):
        PARAMETERS.on_page_markdown("no marker", page=_page(PARAMETERS.PAGE), config={}, files=[])


def test_pipes_in_a_doc_line_do_not_split_its_cell() -> None:
    assert PARAMETERS._cell("a | b `c | d`") == "a \\| b `c | d`"


def test_mkdocs_builds_every_page_with_the_hooks() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "strict: true" in config
    for hook in ("docs/hooks/parameters.py", "docs/hooks/crossrefs.py"):
        assert f"  - {hook}" in config
    listed = set(re.findall(r":\s+([\w/-]+\.md)\s*$", config, re.M))
    on_disk = {str(path.relative_to(DOCS)) for path in PAGES}
    assert listed == on_disk  # every page in the navigation, every navigation entry a page


# -- the API reference pages -------------------------------------------------------------------


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


@pytest.mark.parametrize(
    ("page", "cls", "extra"),
    [
        ("reference/client.md", TicketmasterClient, set()),
        ("reference/sync-client.md", SyncTicketmasterClient, set()),
    ],
)
def test_the_client_pages_document_every_public_member(
    page: str, cls: type, extra: set[str]
) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    documented = set(re.findall(rf"^::: ticketmaster_async\.{cls.__name__}\.(\w+)$", text, re.M))
    assert documented == _public(cls) | extra


def test_every_exported_name_is_in_the_reference() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in (DOCS / "reference").glob("*.md"))
    documented = set(re.findall(r"^::: ticketmaster_async\.(\w+)", text, re.M))
    exported = set(ticketmaster_async.__all__) - {"__version__", "EventFilters"}
    assert exported <= documented, exported - documented
    testing = set(re.findall(r"^::: ticketmaster_async\.testing\.(\w+)$", text, re.M))
    assert set(ticketmaster_async.testing.__all__) - {"CONTENT_TYPE"} <= testing


def _default_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_the_settings_table_lists_every_field_with_its_variable_and_default() -> None:
    text = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| (.*?) \|", text, re.M)
    assert {field for field, _, _ in rows} == set(Settings.model_fields)
    assert len(rows) == len(Settings.model_fields)
    for field, variable, default in rows:
        assert variable == f"TICKETMASTER_{field.upper()}"
        info = Settings.model_fields[field]
        if info.default_factory is None and re.fullmatch(r"`[^`]*`", default):
            assert default.strip("`") == _default_text(info.default), field


def test_every_model_field_named_in_the_response_format_exists() -> None:
    text = (DOCS / "reference" / "responses.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z]\w+)\.(\w+)(?:\(\))?`", text))
    assert len(named) > 100
    for owner, attribute in sorted(named):
        cls = getattr(ticketmaster_async, owner)
        known = set(getattr(cls, "model_fields", {})) | set(dir(cls))
        if isinstance(cls, type) and issubclass(cls, Exception):
            known |= set(inspect.signature(cls.__init__).parameters)
        assert attribute in known, f"{owner}.{attribute}"


def test_the_well_known_sandbox_ids_are_served() -> None:
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| `([\w-]+)` \| ([^|]*)", text, re.M)
    fake = FakeDiscoveryAPI()
    with SyncTicketmasterClient(Settings(environment="sandbox")) as tm:
        for item_id, what in ids:
            if what.startswith("venue "):
                assert tm.get_venue(item_id) is not None, item_id
            elif what.startswith("attraction "):
                assert tm.get_attraction(item_id) is not None, item_id
            else:
                assert fake.get_event(item_id) is not None, item_id
    assert len(ids) >= 10


# -- cross-references in docstrings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "page", "identifier"),
    [
        ("aclose", "reference/client.md", "ticketmaster_async.TicketmasterClient.aclose"),
        ("search_events_page", "", "ticketmaster_async.TicketmasterClient.search_events_page"),
        ("EventChange", "", "ticketmaster_async.EventChange"),
        ("~._api.FakeDiscoveryAPI", "", "ticketmaster_async.testing.FakeDiscoveryAPI"),
        (
            "transport",
            "reference/testing.md",
            "ticketmaster_async.testing.FakeDiscoveryAPI.transport",
        ),
        ("close", "reference/sync-client.md", "ticketmaster_async.SyncTicketmasterClient.close"),
        ("FakeServer.url", "", "ticketmaster_async.testing.FakeServer.url"),
        ("SuggestFilters", "", None),
        ("~.._base.parse_money", "", None),
    ],
)
def test_docstring_roles_resolve_to_documented_names(
    name: str, page: str, identifier: str | None
) -> None:
    assert CROSSREFS.resolve(name, page) == identifier


def test_roles_become_links_or_plain_code() -> None:
    html = "or call :meth:<code>aclose</code>; see :class:<code>SuggestFilters</code>."
    out = CROSSREFS.on_page_content(html, page=_page("reference/client.md"), config={}, files=[])
    assert out == (
        'or call <autoref identifier="ticketmaster_async.TicketmasterClient.aclose" optional>'
        "<code>aclose</code></autoref>; see <code>SuggestFilters</code>."
    )


# -- the code on the pages ---------------------------------------------------------------------


def test_the_docs_have_runnable_examples() -> None:
    assert len(RUNNABLE_BLOCKS) >= 15
    pages = {page for page, *_ in RUNNABLE_BLOCKS}
    assert {"index.md", "quickstart.md", "testing.md"} <= pages
    recipes = {str(path.relative_to(DOCS)) for path in (DOCS / "recipes").glob("*.md")}
    assert recipes <= pages, f"recipes without a runnable example: {recipes - pages}"


@pytest.mark.parametrize(("page", "index", "code", "runnable"), BLOCKS, ids=lambda v: str(v)[:24])
def test_every_python_block_parses(page: str, index: int, code: str, runnable: bool) -> None:
    # Python 3.10 syntax (the oldest supported), and compilable as written: a fragment may
    # await at top level, as in a notebook cell.
    ast.parse(code, filename=f"{page}#{index}", feature_version=(3, 10))
    compile(code, f"{page}#{index}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize(
    ("page", "index", "code"),
    [(page, index, code) for page, index, code, _ in RUNNABLE_BLOCKS],
    ids=[f"{page}#{index}" for page, index, _, _ in RUNNABLE_BLOCKS],
)
def test_runnable_block_runs_against_the_sandbox(
    page: str, index: int, code: str, tmp_path: Path
) -> None:
    # Never the real API: a client is the sandbox or talks to a fake through its transport (and
    # the environment below holds no key, so anything else fails).
    for client in re.findall(r"(?:Sync)?TicketmasterClient\((.*?)\) as", code, re.S):
        assert 'environment="sandbox"' in code or "transport=" in client, client
    tests = re.findall(r"^(?:async )?def (test_\w+)", code, re.M)
    script = tmp_path / ("test_example.py" if tests else "example.py")
    script.write_text(code, encoding="utf-8")
    command = (
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "-p",
            "no:anyio",
            str(script),
        ]
        if tests
        else [sys.executable, str(script)]
    )
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, f"{page} block {index}:\n{done.stdout}{done.stderr}"
    if tests:
        assert f"{len(tests)} passed" in done.stdout, done.stdout
    else:
        assert done.stdout.strip(), "an example that prints nothing shows nothing"
