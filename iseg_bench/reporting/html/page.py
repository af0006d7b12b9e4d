"""Write the browsable report of one protocol: ``index.html`` (tables, figures, run facts, one
gallery per dataset) and one page per shown sample, in a folder that opens from disk (no server,
no network: every script, style and picture is a file beside the pages)."""

from __future__ import annotations

import hashlib
import shlex
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ...environment import project_revision
from ...records import DATA_ERROR, METHOD_ERROR
from ...results_frame import noc_column
from ...store import safe_name
from .. import plots, robustness_tables, tables
from ..style import number, svg_series
from . import drawing, figures
from .replay import RERUN, STORED, UNAVAILABLE, Replayer, SampleMasks, stored
from .selection import chosen_clicks, disagreements, method_labels, noc_grid, shown_samples, worst
from .sources import reopen


@dataclass(frozen=True)
class HtmlOptions:
    """What the HTML report shows: ``views`` samples per dataset get their own page (the worst N of
    each method and the N where methods disagree most; None: every sample); ``weights``,
    ``data_root`` and ``device`` serve re-running samples whose masks were not stored."""

    views: int | None = 12
    weights: Path | None = None
    data_root: Path | None = None
    device: str = "cpu"
    image_side: int = 320  # longest side of a sample view's pictures (pixels)
    thumb_side: int = 96  # longest side of a gallery thumbnail


_ENV = Environment(loader=PackageLoader(__package__, "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def _file_id(sample_id: str) -> str:
    """A file name for a sample id: readable, and distinct even where two ids sanitise alike."""
    return f"{safe_name(sample_id)[:60]}-{hashlib.sha1(sample_id.encode()).hexdigest()[:6]}"


def iou_svg(curves: list[tuple[str, list[float]]], max_clicks: int, threshold: float) -> Markup:
    """An inline SVG of IoU after each click, one polyline per method (dash patterns tell them apart),
    with a dot per click (a sample that stopped after one click still shows), in the figures' colours."""
    w, h, left, bottom, top, right = 440, 210, 38, 28, 10, 10
    pw, ph = w - left - right, h - top - bottom

    def xy(k: int, v: float) -> tuple[str, str]:
        return f"{left + pw * (k - 1) / max(1, max_clicks - 1):.1f}", f"{top + ph * (1 - v):.1f}"

    parts = [f'<svg class="curve" viewBox="0 0 {w} {h}" role="img" aria-label="IoU after each click">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>']
    for v in (0.0, 0.5, 1.0):
        y = top + ph * (1 - v) + 4
        parts.append(f'<text x="{left - 4}" y="{y:.1f}" class="tick" text-anchor="end">{v:g}</text>')
    for k in sorted({1, max_clicks, *range(5, max_clicks, 5)}):
        x = xy(k, 0)[0]
        parts.append(f'<text x="{x}" y="{h - bottom + 14}" class="tick" text-anchor="middle">{k}</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph * (1 - threshold):.1f}" '
                 f'y2="{top + ph * (1 - threshold):.1f}" class="threshold"/>')
    parts.append(f'<text x="{w - right}" y="{h - 2}" class="tick" text-anchor="end">click</text>')
    for i, (label, ious) in enumerate(curves):
        coords = [xy(k, float(v)) for k, v in enumerate(ious, 1) if not np.isnan(v)]
        points = " ".join(f"{x},{y}" for x, y in coords)
        colour, dash = svg_series(i)
        parts += [f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>' for x, y in coords]
        parts.append(f'<polyline points="{points}" class="series" stroke="{colour}" stroke-dasharray="{dash}">'
                     f"<title>{escape(label)}</title></polyline>")
    parts.append("</svg>")
    return Markup("".join(parts))


class _Writer:
    """Writes one report's pages and pictures under ``out``."""

    def __init__(self, report, manifest: dict, options: HtmlOptions) -> None:
        self.report, self.manifest, self.options = report, manifest, options
        self.out: Path = report.out_dir
        self.protocol = report.protocol
        self.threshold = tables.noc_table_thresholds(self.protocol)[-1]
        self.column = noc_column(self.threshold)
        self.replayer = Replayer(options.weights, options.device)
        self.masks_count = {STORED: 0, RERUN: 0, UNAVAILABLE: 0}
        self.files: list[Path] = []

    def _write(self, relative: str, data: bytes | str) -> str:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        self.files.append(path)
        return relative

    # -- the whole report -----------------------------------------------------------------

    def write(self) -> list[Path]:
        for stale in ("assets", "samples"):
            shutil.rmtree(self.out / stale, ignore_errors=True)
        for name in ("report.css", "report.js"):
            self._write(f"assets/{name}", (resources.files(__package__) / "assets" / name).read_bytes())
        frame = self.report.samples
        context = {
            "title": f"iseg-bench report — protocol {self.protocol.name}",
            "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "revision": project_revision(),
            "protocol": self.protocol, "protocol_items": sorted(self.protocol.to_dict().items()),
            "notes": tables.footer_lines(self.report.rows, self.protocol),
            "table3": tables.noc_table_grid(self.report.rows, self.protocol),
            "detail": tables.detail_records(self.report.rows, self.protocol),
            "robustness": (robustness_tables.robustness_records(frame, self.protocol)
                           if self.protocol.seeded and frame.seed.nunique() > 1 else None),
            "figures": self._figures(frame),
            "methods": self._methods(), "datasets": self._datasets(), "runs": self._runs(),
            "environment": (self.manifest.get("runs") or [{}])[-1].get("environment") or {},
            "threshold": self.threshold,
        }
        context["galleries"] = [self._gallery(ds, frame[frame.dataset == ds]) for ds in dict.fromkeys(frame.dataset)]
        context["masks_count"] = self.masks_count
        self._write("index.html", _ENV.get_template("index.html").render(**context))
        return self.files

    def _figures(self, frame: pd.DataFrame) -> list[dict]:
        """Each figure with its title, or the reason it is absent."""
        out = []
        evaluated = frame[frame.status != DATA_ERROR]
        (self.out / "assets").mkdir(parents=True, exist_ok=True)
        drawn: list[tuple[str, Path | None, str]] = [
            ("mIoU after each click, with a 95 % confidence band across samples",
             figures.miou_with_band(evaluated, self.protocol, self.out / "assets/miou_band.png"),
             "no evaluated sample"),
            (f"NoC@{100 * self.threshold:g} per sample, per method",
             figures.noc_distribution(frame, self.protocol, self.column, self.threshold,
                                      self.out / "assets/noc_distribution.png"), "no evaluated sample"),
            ("Model time per click (measured during the accuracy run)",
             figures.latency_per_click(frame, self.protocol, self.out / "assets/latency_per_click.png"),
             "no sample was timed: parallel runs (--workers N) measure no latency; a serial run or "
             "`iseg-bench bench` does"),
        ]
        for ds in dict.fromkeys(frame.dataset):
            rows = [r for r in self.report.rows if r.dataset == ds]
            title = f"Accuracy against time — {ds}"
            if any(plots.has_time(r, self.threshold) for r in rows):
                target = self.out / f"assets/accuracy_time_{_file_id(ds)}.png"
                drawn.append((title, plots.plot_accuracy_time(rows, self.protocol, ds, target, self.threshold), ""))
            else:
                drawn.append((title, None, "the results were not timed (parallel run): no times to plot"))
        for title, figure, reason in drawn:
            if figure is not None:
                self.files.append(figure)
            out.append({"title": title, "src": f"assets/{figure.name}" if figure else "", "absent": reason})
        return out

    def _methods(self) -> list[dict]:
        from ...predictor import MethodInfo
        from ...records import method_key

        keys = dict.fromkeys(method_key(r.method, r.weights, r.implementation) for r in self.report.rows)
        out = []
        for key in keys:
            data = self.manifest.get("methods", {}).get(key)
            if data is None:
                out.append({"label": key, "status": "unknown", "weights": "", "notes": "not described in the manifest"})
                continue
            info = MethodInfo.from_dict(data)
            out.append({"label": info.label, "status": info.status, "weights": info.weights,
                        "origin": info.origin, "params": f"{info.params / 1e6:.2f} M" if info.params else "–",
                        "device": info.device, "notes": info.notes})
        return out

    def _datasets(self) -> list[dict]:
        described = self.manifest.get("datasets", {})
        return [described.get(fp) or {"name": ds, "fingerprint": fp, "samples": "?", "source": "not described"}
                for ds, fp in dict.fromkeys((r.dataset, r.fingerprint) for r in self.report.rows)]

    def _runs(self) -> list[dict]:
        return [{"started": run.get("started", ""), "command": shlex.join(run.get("argv") or []),
                 "executor": run.get("executor", ""), "workers": run.get("workers", ""),
                 "device": run.get("device", "cpu"), "save_masks": run.get("save_masks", False)}
                for run in self.manifest.get("runs", []) if run.get("protocol") == self.protocol.hash]

    # -- one dataset ----------------------------------------------------------------------

    def _gallery(self, name: str, frame: pd.DataFrame) -> dict:
        fingerprint = str(frame.fingerprint.iloc[0])
        dataset = reopen(name, fingerprint, self.manifest.get("datasets", {}).get(fingerprint, {}),
                         self.options.data_root)
        grid = noc_grid(frame, self.column)
        labels = list(grid.columns)
        shown = set(shown_samples(grid, self.options.views))
        index = {sid: i for i, sid in enumerate(dataset.ids)} if not isinstance(dataset, str) else {}
        folder = f"samples/{_file_id(name)}"
        order = [str(s) for s in grid.index]
        pages = {sid: f"{folder}/{_file_id(sid)}.html" for sid in order if sid in shown}
        diffs = {sid: (d, a, b) for sid, d, a, b in disagreements(grid, len(grid))}
        rows = []
        loaded: dict[str, tuple[Any, str]] = {}  # (sample or None, problem) of the samples with a page, read once
        for sid in order:
            sample, problem = _load(dataset, index, sid)
            if sid in pages:
                loaded[sid] = (sample, problem)
            thumb = "" if sample is None else self._write(
                f"{folder}/thumbs/{_file_id(sid)}.jpg", drawing.jpeg(drawing.thumbnail(sample.image,
                                                                                      self.options.thumb_side)))
            values = [grid.at[sid, lb] for lb in labels]
            rows.append({"id": sid, "page": pages.get(sid, ""), "thumb": thumb,
                         "values": [(float(v), number(float(v), 0)) for v in values],
                         "diff": diffs.get(sid, (0.0, "", ""))})
        shown_order = [sid for sid in order if sid in pages]
        for i, sid in enumerate(shown_order):
            neighbours = (shown_order[i - 1] if i else None, shown_order[i + 1] if i + 1 < len(shown_order) else None)
            views = frame[(frame.sample_id == sid) & (frame.seed == frame.seed.min())]
            self._sample_page(name, sid, views, *loaded[sid], pages, neighbours, labels)
        n = self.options.views
        return {
            "name": name, "fingerprint": fingerprint, "labels": labels, "rows": rows, "seeds": frame.seed.nunique(),
            "dataset_note": dataset if isinstance(dataset, str) else "",
            "views": len(pages), "views_rule": ("every sample" if n is None else
                                               f"the {n} worst samples of each method and the {n} where methods "
                                               "disagree most"),
            "worst": {lb: [(sid, number(float(grid.at[sid, lb]), 0), pages.get(sid, ""))
                           for sid in worst(grid, lb, n or 10)] for lb in labels},
            "disagree": [(sid, number(d, 0), a, b, pages.get(sid, ""))
                         for sid, d, a, b in disagreements(grid, n or 10)],
        }

    # -- one sample -----------------------------------------------------------------------

    def _sample_page(self, ds_name: str, sid: str, rows: pd.DataFrame, sample, problem: str, pages: dict,
                     neighbours: tuple, labels: list[str]) -> None:
        page = pages[sid]
        depth = "../" * page.count("/")
        base = page[: -len(".html")]
        gt_view = ""
        if sample is not None:
            gt_view = self._write(f"{base}/gt.jpg", drawing.jpeg(drawing.ground_truth_view(
                sample.image, sample.gt, self.options.image_side)))
        by_label = {r["label"]: r for r in rows.to_dict("records")}
        methods, curves = [], []
        for lb in labels:
            row = by_label.get(lb)
            if row is None:
                continue
            masks = self._masks(row, sample, problem)
            self.masks_count[masks.how] += 1
            panels = []
            if masks.masks is not None and sample is not None:
                for k, why in chosen_clicks(masks.ious, self.threshold):
                    picture = drawing.mask_view(sample.image, masks.masks[k - 1], sample.gt, masks.clicks[:k],
                                                self.options.image_side)
                    name = f"{_file_id(lb)}-{k}.jpg"
                    self._write(f"{base}/{name}", drawing.jpeg(picture))
                    panels.append({"src": f"{Path(base).name}/{name}", "click": k, "why": why,
                                   "iou": f"{masks.ious[k - 1]:.3f}",
                                   "positive": sum(1 for c in masks.clicks[:k] if c[2]),
                                   "negative": sum(1 for c in masks.clicks[:k] if not c[2])})
            ious = masks.ious or row["ious"]
            curves.append((lb, list(ious)))
            methods.append({"label": lb, "status": row["status"], "error": row["error"],
                            "noc": number(row[self.column], 0), "clicks_run": row["clicks_run"],
                            "iou_last": number(row["iou_last"], 3), "how": masks.how, "note": masks.note,
                            "panels": panels})
        html = _ENV.get_template("sample.html").render(
            root=depth, dataset=ds_name, sample_id=sid, problem=problem, protocol=self.protocol,
            seeds=sorted(self.report.samples.seed.unique()),
            threshold=self.threshold, gt_view=Path(gt_view).name if gt_view else "", folder=Path(base).name,
            shape=(sample.gt.shape if sample is not None else None), methods=methods,
            curve=iou_svg(curves, self.protocol.max_clicks, self.threshold), labels=[m["label"] for m in methods],
            series=[svg_series(i) for i in range(len(methods))],
            previous=Path(pages[neighbours[0]]).name if neighbours[0] else "",
            next=Path(pages[neighbours[1]]).name if neighbours[1] else "")
        self._write(page, html)

    def _masks(self, row: dict, sample, problem: str) -> SampleMasks:
        if row["status"] == DATA_ERROR:
            return SampleMasks(UNAVAILABLE, f"data error: {row['error']}")
        found = stored(row)
        if found is not None:
            return found
        if sample is None:
            return SampleMasks(UNAVAILABLE, f"no stored masks, and the sample cannot be re-run: {problem}")
        masks = self.replayer.rerun(row, sample.image, sample.gt, self.protocol)
        if row["status"] == METHOD_ERROR and masks.how == RERUN:
            masks.note += f" (the method failed at: {row['error']})"
        return masks


def _load(dataset, index: dict, sid: str) -> tuple[Any, str]:
    """(the sample, "") or (None, why it cannot be had): ``dataset`` is a sentence when it is not here."""
    if isinstance(dataset, str):
        return None, dataset
    try:
        return dataset.load(index[sid]), ""
    except Exception as exc:  # a sample that no longer loads costs its pictures only
        return None, f"the sample cannot be loaded now: {exc}"


def write_html(report, manifest: dict, options: HtmlOptions) -> list[Path]:
    """Write ``report``'s browsable pages into ``report.out_dir`` (index.html, assets/, samples/)."""
    return _Writer(report, manifest, options).write()


def write_index_of_reports(root: Path, reports: list) -> Path:
    """``root/index.html`` linking the reports of several protocols in one results folder."""
    html = _ENV.get_template("reports.html").render(
        reports=[{"name": r.protocol.name, "hash": r.protocol.hash, "summary": r.protocol.summary(),
                  "href": f"{r.out_dir.relative_to(root).as_posix()}/index.html"} for r in reports])
    path = root / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


__all__ = ["HtmlOptions", "iou_svg", "method_labels", "write_html", "write_index_of_reports"]
