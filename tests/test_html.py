"""The HTML report and what feeds it: stored masks, ``load_results``, the sample selection, the
re-run of samples without stored masks, and the pages themselves in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from iseg_bench import load_results, metrics
from iseg_bench.cli import main
from iseg_bench.datasets import open_dataset
from iseg_bench.masks import MasksError, decode, encode
from iseg_bench.reporting.html.selection import chosen_clicks, disagreements, noc_grid, shown_samples, worst
from iseg_bench.store import ResultStore

SCREENSHOTS = os.environ.get("ISEG_BENCH_SCREENSHOTS")  # a folder to keep the browser test's screenshots in


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def with_masks(tmp_path_factory) -> Path:
    """Two weight-free methods on 5 generated samples, masks stored."""
    out = tmp_path_factory.mktemp("html") / "results"
    result = invoke("run", "--methods", "grabcut,disk", "--limit", "5", "--out", str(out), "--save-masks",
                    "--html", "--views", "2", "--no-progress")
    assert result.exit_code == 0, result.output
    return out


# -- masks ------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_masks_round_trip_exactly(n, h, w, seed):
    masks = np.random.default_rng(seed).random((n, h, w)) > 0.5
    assert np.array_equal(decode(encode(list(masks))), masks)


def test_masks_are_compact_and_a_bad_file_is_named(tmp_path):
    yy, xx = np.mgrid[:480, :640]
    masks = [(yy - 240) ** 2 + (xx - 320) ** 2 < (40 + 8 * k) ** 2 for k in range(20)]  # a growing disc
    data = encode(masks)
    assert len(data) < 20 * 480 * 640 / 8 / 20  # far below the packed bits' bound
    bad = tmp_path / "broken.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(MasksError, match="broken.npz"):
        decode(bad)


def test_stored_masks_reproduce_the_recorded_ious(with_masks):
    """Each stored mask scores, against the ground truth, exactly the IoU its record holds."""
    frame = load_results(with_masks)
    assert (frame.masks != "").all()
    dataset = open_dataset("Synthetic")
    index = {sid: i for i, sid in enumerate(dataset.ids)}
    for row in frame.itertuples():
        masks = decode(Path(row.masks))
        assert len(masks) == row.clicks_run == len(row.ious)
        gt = dataset.load(index[row.sample_id]).gt
        scored = [float(np.float32(metrics.iou(gt, m))) for m in masks]
        assert scored == row.ious


def test_a_resumed_run_does_not_need_masks_and_a_run_without_the_flag_stores_none(tmp_path):
    out = tmp_path / "r"
    assert invoke("run", "--methods", "disk", "--limit", "2", "--out", str(out), "--no-progress",
                  "--no-report").exit_code == 0
    assert not (out / "masks").exists()
    assert (load_results(out).masks == "").all()


# -- load_results -----------------------------------------------------------------------------

def test_load_results_is_one_row_per_sample_and_method_and_agrees_with_the_report(with_masks):
    frame = load_results(with_masks)
    assert len(frame) == 10 and set(frame.method) == {"grabcut", "disk"}
    assert {"noc_85", "noc_90", "noc_95", "ious", "latency_s", "status", "first_click_s"} <= set(frame.columns)
    summary = json.loads((with_masks / "report" / "summary.json").read_text())
    for result in summary["results"]:
        rows = frame[frame.method == result["method"]]
        for t, value in result["noc"].items():
            assert rows[f"noc_{t}"].mean() == pytest.approx(value)
        assert rows.ious.map(lambda v: v[0]).mean() == pytest.approx(result["miou"][0])
    per_sample = pd.read_csv(with_masks / "report" / "per_sample.csv")  # the report writes the same frame
    assert sorted(per_sample.columns) == sorted(frame.columns)


def test_load_results_filters_by_protocol_and_names_an_empty_folder(with_masks, tmp_path):
    from iseg_bench.store import StoreError

    assert len(load_results(with_masks, protocol="neutral")) == 10
    with pytest.raises(StoreError, match="under protocol 'ritm'"):
        load_results(with_masks, protocol="ritm")
    with pytest.raises(StoreError, match=str(tmp_path)):
        load_results(tmp_path)


# -- which samples and clicks a page shows -----------------------------------------------------

def _frame(nocs: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"sample_id": f"s{i}", "label": label, "noc_90": v}
            for label, values in nocs.items() for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_worst_and_disagreement_views():
    grid = noc_grid(_frame({"a": [1, 20, 5, 3], "b": [2, 4, 5, 20]}), "noc_90")
    assert worst(grid, "a", 2) == ["s1", "s2"]
    assert worst(grid, "b", 1) == ["s3"]
    assert disagreements(grid, 5) == [("s3", 17.0, "a", "b"), ("s1", 16.0, "b", "a"), ("s0", 1.0, "a", "b")]
    assert shown_samples(grid, 1) == ["s1", "s3"]
    assert shown_samples(grid, None) == ["s0", "s1", "s2", "s3"]


def test_chosen_clicks_name_the_threshold_and_the_last():
    ious = [0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.95]
    assert chosen_clicks(ious, 0.9) == [(1, "click 1"), (3, "click 3"), (5, "click 5, reached IoU 0.9"),
                                        (7, "click 7, last")]
    assert chosen_clicks([0.2, 0.3], 0.9) == [(1, "click 1"), (2, "click 2, last")]
    assert chosen_clicks([np.float32(0.9)], 0.9) == [(1, "click 1, reached IoU 0.9, last")]


# -- the pages --------------------------------------------------------------------------------

def _pages(report: Path) -> list[Path]:
    return sorted((report / "samples").rglob("*.html"))


def test_report_is_self_contained_and_every_reference_exists(with_masks):
    report = with_masks / "report"
    for page in [report / "index.html", *_pages(report)]:
        html = page.read_text()
        assert "http://" not in html and "https://" not in html, page  # no CDN, no network
        for ref in re.findall(r'(?:src|href)="([^"#]+)"', html):
            if not ref.startswith("data:"):
                assert (page.parent / ref).exists(), f"{page}: {ref} is missing"
    assert len(_pages(report)) >= 2
    index = (report / "index.html").read_text()
    assert re.search(r"(\d+) stored by <code>run --save-masks</code>,\s+0 recomputed", index)


def test_tables_in_the_page_are_the_markdown_numbers(with_masks):
    report = with_masks / "report"
    index = (report / "index.html").read_text()
    for line in (report / "table3.md").read_text().splitlines()[2:4]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        row = re.search(rf"<th scope=\"row\">{cells[0]}</th>(.*?)</tr>", index).group(1)
        assert re.findall(r"<td>([^<]*)</td>", row) == cells[1:]


def test_samples_without_stored_masks_are_rerun_and_checked(tmp_path):
    out = tmp_path / "r"
    assert invoke("run", "--methods", "grabcut,disk", "--limit", "3", "--out", str(out), "--no-progress",
                  "--no-report").exit_code == 0
    # make one stored record disagree with what the method does, as a changed method would
    store = ResultStore(out)
    path = store.path_for("disk", "Synthetic")
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["ious"][0] = 0.123
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    result = invoke("report", str(out), "--html", "--views", "all")
    assert result.exit_code == 0, result.output
    pages = {p.stem.rsplit("-", 1)[0]: p.read_text() for p in _pages(out / "report")}
    assert set(pages) == {"synth-000", "synth-001", "synth-002"}
    changed = pages[record["sample_id"]]
    assert "DIFFERS from the record" in changed and "largest IoU difference" in changed
    assert changed.count("the IoU after every click matches the record") == 1  # grabcut's still does
    others = [text for sid, text in pages.items() if sid != record["sample_id"]]
    assert all(text.count("the IoU after every click matches the record") == 2 for text in others)


def test_a_dataset_that_is_not_there_any_more_is_said_on_the_pages(tmp_path):
    from layouts import write_paired

    data = tmp_path / "data"
    write_paired(data / "Berkeley", "images", "masks", {"a": (".jpg", ".png"), "b": (".jpg", ".png")})
    out = tmp_path / "r"
    assert invoke("run", "--methods", "disk", "--datasets", "Berkeley", "--data-root", str(data), "--out", str(out),
                  "--no-progress", "--no-report").exit_code == 0
    shutil.rmtree(data)
    result = invoke("report", str(out), "--html")
    assert result.exit_code == 0, result.output
    index = (out / "report" / "index.html").read_text()
    assert "No pictures: dataset Berkeley is not available here" in index
    assert all("not available here" in p.read_text() for p in _pages(out / "report"))


def test_views_must_be_a_number_or_all_and_html_needs_the_report(with_masks, tmp_path):
    result = invoke("report", str(with_masks), "--html", "--views", "some")
    assert result.exit_code == 2 and "--views" in result.output
    out = tmp_path / "r"
    for args, hint in ((["--views", "0"], "--views"), (["--no-report"], "--html")):
        result = invoke("run", "--methods", "disk", "--limit", "1", "--out", str(out), "--html", *args)
        assert result.exit_code == 2 and hint in result.output
        assert not out.exists()  # refused before any work


def test_package_data_ships_the_templates_and_assets():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = config["package-data"]["iseg_bench.reporting.html"]
    folder = root / "iseg_bench" / "reporting" / "html"
    shipped = {p for g in globs for p in folder.glob(g)}
    needed = {p for sub in ("templates", "assets") for p in (folder / sub).iterdir()}
    assert needed and needed <= shipped


# -- in a real browser --------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


def _chromium() -> str:
    path = os.environ.get("ISEG_BENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no Chromium found (apt-get install -y chromium, or set ISEG_BENCH_CHROMIUM)")
    return path


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as play:
        try:
            chromium = play.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Exception as exc:  # a browser that is there but cannot start on this machine
            pytest.skip(f"Chromium at {executable} cannot be started: {exc}")
        yield chromium
        chromium.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type in
            ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def _broken_images(page) -> list[str]:
    for img in page.locator("img").all():  # lazy images load once scrolled to
        img.scroll_into_view_if_needed()
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    return page.evaluate("Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)")


def _column(page, table, index: int) -> list[str]:
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_the_report_in_a_browser(with_masks, browser, tmp_path):
    report = with_masks / "report"
    page, problems = _open(browser, report / "index.html")
    assert page.title().startswith("iseg-bench report")
    assert _broken_images(page) == []
    assert page.locator("#figures img").count() == 4  # mIoU band, NoC distribution, latency, accuracy-time
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "index.png"), full_page=True)

    # sorting: by a method's NoC ascending, then descending, then by sample id
    table = page.locator("table.samples").first
    heads = table.locator("thead th")
    disk_col = next(i for i in range(heads.count()) if heads.nth(i).inner_text().startswith("disk")) + 1
    grab_col = next(i for i in range(heads.count()) if heads.nth(i).inner_text().startswith("grabcut")) + 1
    heads.nth(grab_col - 1).locator("button").click()
    values = [float(v) for v in _column(page, table, grab_col)]
    assert values == sorted(values) and heads.nth(grab_col - 1).get_attribute("aria-sort") == "ascending"
    heads.nth(grab_col - 1).locator("button").click()
    values = [float(v) for v in _column(page, table, grab_col)]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) > 1  # the generated samples give grabcut different NoCs: the order means something
    heads.nth(1).locator("button").click()  # by sample id
    assert _column(page, table, 2) == sorted(_column(page, table, 2))
    assert _column(page, table, disk_col)  # every method has its column

    # the worst-samples selector shows one method's list at a time
    select = page.locator("select.worst-select").first
    select.select_option(index=1)
    visible = page.locator("ol.worst-list:visible")
    assert visible.count() == 1 and visible.first.get_attribute("data-method") == "1"

    # a sample page: every picture loads, both methods shown with their chosen clicks, back link works
    link = table.locator("tbody a").first
    sample_id = link.inner_text()
    link.click()
    page.wait_for_load_state("load")
    assert page.locator("#sample-id").inner_text() == sample_id
    assert _broken_images(page) == []
    methods = page.locator("section.method")
    assert methods.count() == 2
    for i in range(2):
        captions = methods.nth(i).locator("figcaption").all_inner_texts()
        assert captions and captions[0].startswith("After click 1") and "last" in captions[-1]
    assert page.locator("svg.curve polyline").count() == 2
    page.screenshot(path=str(shots / "sample.png"), full_page=True)
    page.locator("a", has_text="all samples").click()
    page.wait_for_load_state("load")
    assert page.title().startswith("iseg-bench report")
    assert problems == []


def test_real_grabcut_report_in_a_browser(tmp_path, shared_datasets, browser):
    """The real GrabCut images: masks stored, every sample viewed, pages load whole in Chromium."""
    out = tmp_path / "results"
    result = invoke("run", "--methods", "grabcut,watershed", "--datasets", "GrabCut", "--data-root",
                    str(shared_datasets), "--limit", "3", "--out", str(out), "--save-masks", "--html", "--views",
                    "all", "--no-progress")
    assert result.exit_code == 0, result.output
    frame = load_results(out)
    dataset = open_dataset("GrabCut", shared_datasets)
    for row in frame.itertuples():
        gt = dataset.load(dataset.ids.index(row.sample_id)).gt
        assert [float(np.float32(metrics.iou(gt, m))) for m in decode(Path(row.masks))] == row.ious
    pages = _pages(out / "report")
    assert len(pages) == 3
    page, problems = _open(browser, out / "report" / "index.html")
    assert _broken_images(page) == [] and page.locator("img.thumb").count() == 3
    for sample_page in pages:
        page.goto(sample_page.as_uri())
        assert _broken_images(page) == []
        assert page.locator("section.method").count() == 2
        assert page.locator(".masks-stored").count() == 2
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "grabcut-sample.png"), full_page=True)
    assert problems == []


def test_several_protocols_get_one_html_report_each_and_an_index(tmp_path):
    out = tmp_path / "res"
    for protocol in ("neutral", "ritm"):
        assert invoke("run", "--methods", "disk", "--limit", "2", "--out", str(out), "--protocol", protocol,
                      "--no-report").exit_code == 0
    result = invoke("report", str(out), "--html", "--views", "1")
    assert result.exit_code == 0, result.output
    top = (out / "report" / "index.html").read_text()
    links = re.findall(r'href="([^"]+\.html)"', top)
    assert len(links) == 2 and all((out / "report" / link).exists() for link in links)
    assert any(link.startswith("ritm-") for link in links)
