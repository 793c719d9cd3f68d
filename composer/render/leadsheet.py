"""The plan as a lead sheet: text for people, JSON for programs (``compose plan``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import networkx as nx

from planners.plan import SongPlan


@dataclass(frozen=True)
class LeadSheet:
    plan: SongPlan
    graph: nx.MultiDiGraph

    def edges(self) -> list[dict[str, str]]:
        return [
            {"source": u, "target": v, "relation": k}
            for u, v, k in self.graph.edges(keys=True)
            if k != "follows"
        ]

    def to_json(self) -> str:
        data = self.plan.model_dump(mode="json")
        data["form_graph"] = self.edges()
        return json.dumps(data, indent=2)

    def to_text(self) -> str:
        p = self.plan
        lines = [
            f"{p.title}: {p.key}, {p.tempo} bpm, {p.time_signature}, {p.style}, "
            f"{p.total_bars} bars, seed {p.seed}",
            "form: " + " ".join(s.name for s in p.sections),
        ]
        if p.understood is not None:
            lines[1:1] = p.understood.lines()
        rel = [f"{e['target']} {e['relation']} {e['source']}" for e in self.edges()]
        if rel:
            lines.append("relations: " + ", ".join(rel))
        for s in p.sections:
            extra = f", {s.relation} {s.source}" if s.source else ""
            extra += f", leads to {s.modulates_to}" if s.modulates_to else ""
            lines.append(
                f"\n[{s.id}] {s.name} ({s.role}) bars {s.start_bar}-{s.start_bar + s.bars - 1}, "
                f"{s.key}, {s.cadence} cadence{extra}"
            )
            bars: dict[int, list[str]] = {}
            for e in s.chords:
                bars.setdefault(e.bar, []).append(e.symbol)
            row = [" ".join(bars.get(b, ["%"])) for b in range(1, s.bars + 1)]
            for i in range(0, len(row), 4):
                lines.append("  | " + " | ".join(f"{c:<10}" for c in row[i : i + 4]) + " |")
        return "\n".join(lines)
