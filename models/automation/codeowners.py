"""CODEOWNERS, read the way GitHub reads it: gitignore-style patterns, the last matching pattern
wins, a pattern with no owners leaves its paths unowned.

Used to find the team that owns a failing repository (and so its engineering manager) when no
route in the config names one. Lines GitHub would reject (a `!` negation, a `[...]` range, an
owner that is neither `@user`, `@org/team` nor an email address) are skipped and reported with
their file and line, as GitHub's own CODEOWNERS check does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("followthrough.automation")

# Where GitHub looks for the file in a repository, in its order.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
EXPORTS_DIR = "codeowners"  # <exports>/codeowners/<owner__repo>[/<one of LOCATIONS>]

_OWNER = re.compile(r"^(@[A-Za-z0-9][\w.-]*(/[\w.-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")
_SPLIT = re.compile(r"(?<!\\)\s+")
# File paths in a failure excerpt ("tests/api/test_refund.py:42", "src/main/Foo.java").
_PATH_IN_TEXT = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z0-9]+)")


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-style CODEOWNERS pattern as a regex over a repository-relative path.

    A pattern with a slash at its start or in its middle is anchored at the root, otherwise it
    matches at any depth; a trailing slash matches a directory's contents; `*` stays within a
    path segment, `**` crosses them; `dir/*` matches the files directly in `dir` only (GitHub's
    documented exception); any other match of a directory covers everything under it.
    """
    dir_only = pattern.endswith("/")
    body = pattern.strip("/") if pattern != "/" else ""
    anchored = pattern.startswith("/") or "/" in body
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    rx = "".join(out)
    if not anchored:
        rx = "(?:.*/)?" + rx
    if dir_only:
        rx += "/.*"
    elif not body.endswith(("/*", "/**")):
        rx += "(?:/.*)?"
    return re.compile(rx + "$")


@dataclass
class CodeOwners:
    source: str
    rules: list[Rule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "file:line: reason", skipped lines

    @classmethod
    def parse(cls, text: str, source: str = "CODEOWNERS") -> CodeOwners:
        out = cls(source)
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            tokens = _SPLIT.split(line)
            for j, tok in enumerate(tokens[1:], start=1):
                if tok.startswith("#"):  # a trailing comment
                    tokens = tokens[:j]
                    break
            pattern, owners = tokens[0], tuple(tokens[1:])
            if pattern.startswith("!") or re.search(r"(?<!\\)\[", pattern):
                out.errors.append(f"{source}:{n}: pattern {pattern!r} uses syntax CODEOWNERS "
                                  "does not support (! or [ ])")
                continue
            bad = [o for o in owners if not _OWNER.match(o)]
            if bad:
                out.errors.append(f"{source}:{n}: owner {bad[0]!r} is not @user, @org/team or "
                                  "an email address")
                continue
            out.rules.append(Rule(pattern, owners, n, pattern_regex(pattern)))
        return out

    def owners(self, path: str) -> tuple[str, ...]:
        """Owners of `path` (repository-relative): the last matching rule's, possibly none."""
        path = path.lstrip("/")
        for rule in reversed(self.rules):
            if rule.regex.match(path):
                return rule.owners
        return ()

    def default_owners(self) -> tuple[str, ...]:
        """The repository's catch-all owners (`*`, `/*`, `**`): who owns a path no more specific
        rule names."""
        return self.owners("")

    def owners_for_failure(self, excerpt: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """Owners of the first file path named in a failure excerpt that has owners, else the
        repository's catch-all owners."""
        for line in excerpt:
            for path in _PATH_IN_TEXT.findall(line):
                found = self.owners(path)
                if found:
                    return found
        return self.default_owners()


def _read(path: Path) -> CodeOwners | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("CODEOWNERS %s cannot be read: %s", path, exc)
        return None
    parsed = CodeOwners.parse(text, str(path))
    for error in parsed.errors:
        log.warning("CODEOWNERS line skipped: %s", error)
    return parsed


def _in_folder(folder: Path, repo: str) -> Path | None:
    """`<folder>/<owner__repo>` as a file, or that folder holding a repository layout."""
    base = folder / repo.replace("/", "__")
    if base.is_file():
        return base
    if base.is_dir():
        for rel in LOCATIONS:
            if (base / rel).is_file():
                return base / rel
    return None


def locate(repo: str, exports: Path | None, configured: str = "") -> Path | None:
    """The CODEOWNERS for `repo`: from the exports (`codeowners/<owner__repo>`) if present,
    else from the configured path (one file for every repository, or a folder laid out like the
    exports' one)."""
    if exports is not None and (exports / EXPORTS_DIR).is_dir():
        found = _in_folder(exports / EXPORTS_DIR, repo)
        if found:
            return found
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            return _in_folder(path, repo)
    return None


class CodeOwnersCache:
    """Each repository's CODEOWNERS read at most once per pass."""

    def __init__(self, exports: Path | None, configured: str = "") -> None:
        self.exports = exports
        self.configured = configured
        self._by_repo: dict[str, CodeOwners | None] = {}
        self._by_path: dict[Path, CodeOwners | None] = {}

    def get(self, repo: str) -> CodeOwners | None:
        if repo not in self._by_repo:
            path = locate(repo, self.exports, self.configured)
            if path is None:
                self._by_repo[repo] = None
            else:
                if path not in self._by_path:
                    self._by_path[path] = _read(path)
                self._by_repo[repo] = self._by_path[path]
        return self._by_repo[repo]
