"""Read back what a picture drew: the runs on the timeline and the tables' rows."""

from __future__ import annotations

from html.parser import HTMLParser


class DrawnPage(HTMLParser):
    """The run bars (their ``data-`` attributes), lanes and table rows of a page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: dict[str, dict[str, str]] = {}
        self.lanes: list[dict[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.entries: list[dict[str, str]] = []
        self.scripts = 0
        self.external: list[str] = []
        self._lane: dict[str, str] | None = None
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        for name in ("src", "href"):
            if name in found and not found[name].startswith(("#", "data:")):
                self.external.append(found[name])
        if tag == "script":
            self.scripts += 1
        if tag == "g" and found.get("class") == "lane":
            self._lane = found
            self.lanes.append({**found, "runs": ""})
        if tag == "g" and found.get("class") == "run":
            lane = self.lanes[-1]
            self.runs[found["data-name"]] = {
                **found,
                "lane": f"{lane['data-tier']}:{lane['data-worker']}",
            }
            lane["runs"] = " ".join(filter(None, [lane["runs"], found["data-name"]]))
        if tag == "circle" and found.get("class") == "entry":
            self.entries.append(found)
        if tag == "table":
            self._table = found.get("id", "")
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, text: str) -> None:
        if self._cell is not None:
            self._cell.append(text)

    def rows(self, table: str) -> list[dict[str, str]]:
        """A table's body rows, each keyed by its column heading."""
        head, *body = self.tables[table]
        return [dict(zip(head, row, strict=True)) for row in body if len(row) == len(head)]
