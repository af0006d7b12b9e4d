"""The robot user against ../shared/reference/protocol.md §8 (cases 1-10) and against the full-image rule."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_force_edt, reference_next_click
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import iseg_bench.clicker as clicker_module
from iseg_bench.click_strategies import make_clicker
from iseg_bench.clicker import RobotClicker, distance_to_background


def first_click(gt, pred=None):
    c = RobotClicker(np.asarray(gt, np.int32))
    pred = np.zeros(gt.shape, bool) if pred is None else pred
    click = c.next_click(pred)
    return (click.y, click.x), click.is_positive


def test_case1_centre_tie_breaks_row_major():
    gt = np.zeros((10, 10), np.int32)
    gt[2:6, 3:7] = 1
    assert first_click(gt) == ((3, 4), True)


def test_case2_image_border_counts_as_background():
    gt = np.zeros((10, 10), np.int32)
    gt[0:4, :] = 1
    assert first_click(gt) == ((1, 1), True)


def test_case3_all_object():
    assert first_click(np.ones((5, 5), np.int32)) == ((2, 2), True)


def test_case4_tie_between_fn_and_fp_goes_negative():
    gt = np.zeros((10, 10), np.int32)
    gt[1:4, 1:4] = 1
    pred = np.zeros((10, 10), bool)
    pred[6:9, 6:9] = True
    assert first_click(gt, pred) == ((7, 7), False)


def test_case5_clicked_pixels_are_excluded():
    gt = np.zeros((10, 10), np.int32)
    gt[1:4, 1:4] = 1
    c = RobotClicker(gt)
    empty = np.zeros((10, 10), bool)
    a, b = c.next_click(empty), c.next_click(empty)
    assert (a.y, a.x, a.is_positive) == (2, 2, True)
    assert (b.y, b.x, b.is_positive) == (1, 1, True)


def test_case6_partial_prediction():
    gt = np.zeros((10, 10), np.int32)
    gt[2:8, 2:8] = 1
    pred = np.zeros((10, 10), bool)
    pred[2:8, 2:5] = True
    assert first_click(gt, pred) == ((3, 6), True)


def test_case7_perfect_prediction_clicks_origin_negative():
    gt = np.zeros((6, 6), np.int32)
    gt[1:4, 1:4] = 1
    assert first_click(gt, gt == 1) == ((0, 0), False)


def test_case8_void_band_acts_as_boundary():
    gt = np.zeros((9, 9), np.int32)
    gt[1:8, 1:8] = -1
    gt[2:7, 2:7] = 1
    assert first_click(gt) == ((4, 4), True)


def test_case9_non_square():
    gt = np.zeros((6, 8), np.int32)
    gt[1:5, 1:7] = 1
    assert first_click(gt) == ((2, 2), True)


def test_case10_indices_count_up_regardless_of_polarity():
    gt = np.zeros((12, 12), np.int32)
    gt[2:6, 2:6] = 1
    pred = np.zeros((12, 12), bool)
    pred[8:11, 8:11] = True  # FN and FP maxima tie at 2: the first click is negative
    c = RobotClicker(gt)
    clicks = [c.next_click(pred) for _ in range(3)]
    assert [(k.y, k.x, k.is_positive, k.index) for k in clicks] == [
        (9, 9, False, 0), (3, 3, True, 1), (3, 4, True, 2)]


def test_all_error_pixels_clicked_falls_back_to_origin():
    gt = np.zeros((5, 5), np.int32)
    gt[2, 2] = 1
    c = RobotClicker(gt)
    empty = np.zeros((5, 5), bool)
    assert c.next_click(empty).coords == (2, 2)
    second = c.next_click(empty)  # the only error pixel was clicked already
    assert (second.coords, second.is_positive) == ((0, 0), False)


def test_distance_peak_is_exact_euclidean():
    """The transform is within rounding of the exact EDT; its peak (what clicks use) is exact."""
    from iseg_bench.clicker import exact_peak

    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = rng.random((rng.integers(1, 25), rng.integers(1, 25))) < 0.7
        exact = brute_force_edt(mask)
        raw = distance_to_background(mask)
        assert np.abs(raw - exact).max() <= 4 * np.finfo(np.float32).eps * max(1.0, float(exact.max()))
        value, at = exact_peak(raw)
        assert value == exact.max() and at == int(np.argmax(exact == exact.max()))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="does not match"):
        RobotClicker(np.zeros((4, 4), np.int32)).next_click(np.zeros((4, 5), bool))


def test_registry_builds_robot():
    assert isinstance(make_clicker("robot", np.ones((3, 3), np.int32)), RobotClicker)


label_maps = arrays(np.int32, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.sampled_from([-1, 0, 1]))


@settings(max_examples=300, deadline=None)
@given(gt=label_maps, seed=st.integers(0, 2**31 - 1), n_clicks=st.integers(1, 6))
def test_matches_full_image_reference_rule(gt, seed, n_clicks):
    """The bounding-box crop gives exactly the full-image rule's clicks, click after click."""
    rng = np.random.default_rng(seed)
    robot = RobotClicker(gt)
    not_clicked = np.ones(gt.shape, bool)
    for _ in range(n_clicks):
        pred = rng.random(gt.shape) < rng.random()
        expected = reference_next_click(gt, pred, not_clicked)
        click = robot.next_click(pred)
        assert (click.y, click.x, click.is_positive) == expected
        not_clicked[click.y, click.x] = False


@settings(max_examples=200, deadline=None)
@given(gt=label_maps, seed=st.integers(0, 2**31 - 1))
def test_click_lands_on_an_unclicked_error_pixel(gt, seed):
    rng = np.random.default_rng(seed)
    robot = RobotClicker(gt)
    for _ in range(4):
        pred = rng.random(gt.shape) < 0.5
        errors = (gt != -1) & ((gt == 1) != pred)
        unclicked_errors = errors.copy()
        for c in robot.clicks:
            unclicked_errors[c.y, c.x] = False
        click = robot.next_click(pred)
        if unclicked_errors.any():
            assert unclicked_errors[click.y, click.x]
            assert click.is_positive == (gt[click.y, click.x] == 1)
        else:
            assert (click.coords, click.is_positive) == ((0, 0), False)


def test_work_follows_the_error_region(monkeypatch):
    """On a 480x854 frame with a small error region, the distance transform sees only its box."""
    seen = []
    real = clicker_module.distance_to_background

    def spy(mask):
        seen.append(mask.shape)
        return real(mask)

    monkeypatch.setattr(clicker_module, "distance_to_background", spy)
    gt = np.zeros((480, 854), np.int32)
    gt[200:240, 300:370] = 1
    pred = np.zeros(gt.shape, bool)
    pred[200:240, 300:360] = True  # the error is the 40x10 strip on the right
    click = RobotClicker(gt).next_click(pred)
    assert seen and all(shape == (40, 10) for shape in seen)
    assert click.is_positive and 200 <= click.y < 240 and 360 <= click.x < 370


def test_crop_equals_full_image_on_a_large_frame():
    rng = np.random.default_rng(7)
    gt = np.zeros((480, 854), np.int32)
    yy, xx = np.mgrid[0:480, 0:854]
    gt[(yy - 240) ** 2 / 150**2 + (xx - 400) ** 2 / 260**2 <= 1] = 1
    gt[rng.random(gt.shape) < 0.01] = -1
    robot = RobotClicker(gt)
    not_clicked = np.ones(gt.shape, bool)
    pred = np.zeros(gt.shape, bool)
    for _ in range(8):
        expected = reference_next_click(gt, pred, not_clicked)
        click = robot.next_click(pred)
        assert (click.y, click.x, click.is_positive) == expected
        not_clicked[click.y, click.x] = False
        # grow a rough prediction around the clicks, with a false-positive blob now and then
        pred = pred.copy()
        pred[max(0, click.y - 60):click.y + 60, max(0, click.x - 90):click.x + 90] = click.is_positive


@pytest.mark.parametrize("threads", [1, 2])
def test_clicks_do_not_depend_on_opencv_threads(threads):
    """OpenCV's single-threaded (IPP) distance transform is off by an ulp at times; clicks are not."""
    import cv2

    from iseg_bench.datasets import open_dataset

    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        ds = open_dataset("Synthetic")
        for i in (0, 3, 7):
            gt = ds.load(i).gt
            robot = RobotClicker(gt)
            not_clicked = np.ones(gt.shape, bool)
            pred = np.zeros(gt.shape, bool)
            for _ in range(3):
                click = robot.next_click(pred)
                assert (click.y, click.x, click.is_positive) == reference_next_click(gt, pred, not_clicked)
                not_clicked[click.y, click.x] = False
                pred = pred.copy()
                pred[max(0, click.y - 15):click.y + 15, max(0, click.x - 25):click.x + 25] = click.is_positive
    finally:
        cv2.setNumThreads(before)
