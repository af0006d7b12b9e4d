"""The predictors' geometry against ../shared/reference/protocol.md §8 (cases 17-20) and the official rules."""

from __future__ import annotations

import numpy as np
import pytest

from iseg_bench.adapters import geometry as g


@pytest.mark.parametrize("size, short, expected", [
    ((321, 481), 384, (384, 572)), ((480, 854), 384, (384, 680)), ((500, 375), 384, (512, 384)),
    ((427, 640), 384, (384, 576)), ((480, 854), 576, (576, 1024)),
])
def test_case17_emc_resize(size, short, expected):
    assert g.short_side_size(*size, short) == expected


def test_case18_ritm_zoom_in_with_bankers_rounding():
    roi = g.clamp_bbox(g.expand_bbox((100, 149, 200, 299), 1.4, 200), 0, 479, 0, 639)
    assert roi == (24, 224, 150, 350)  # 24.5 -> 24, 224.5 -> 224, 149.5 -> 150, 349.5 -> 350
    assert g.zoom_size(roi, 400) == (400, 400)
    y, x = g.to_roi(120, 250, roi, 400, 400)
    assert (round(y, 4), round(x, 4)) == (191.0448, 199.005)


def test_case19_tall_box_is_clamped():
    expanded = g.expand_bbox((10, 409, 50, 149), 1.4, 200)
    assert expanded == (-70, 490, 0, 200)
    assert g.clamp_bbox(expanded, 0, 479, 0, 639) == (0, 479, 0, 200)


def test_case20_flip_mapping():
    assert g.flip_x(0, 100) == 99 and g.flip_x(12.5, 100) == 86.5


def test_object_roi_includes_positive_clicks():
    mask = np.zeros((480, 640), bool)
    mask[100:150, 200:300] = True
    assert g.object_roi(mask, [], 1.4, 200) == (24, 224, 150, 350)
    far = g.object_roi(mask, [(400.0, 600.0)], 1.4, 10)  # rows 100..400, cols 200..600, x1.4, clamped
    assert far == (39, 461, 119, 639)


def test_bbox_iou_and_click_containment():
    assert g.bbox_iou((0, 9, 0, 9), (0, 9, 0, 9)) == 1.0
    assert g.bbox_iou((0, 9, 0, 9), (5, 14, 0, 9)) == pytest.approx(5 / 15)
    assert g.clicks_inside((10, 20, 10, 20), [(10, 19.5)]) and not g.clicks_inside((10, 20, 10, 20), [(20, 15)])


def test_focus_crop_without_previous_mask_is_the_coarse_box_expanded():
    coarse = np.full((100, 120), -5.0)
    coarse[20:40, 30:70] = 5.0
    box = g.focus_crop(coarse, np.zeros((100, 120)), (0, 100, 0, 120), 30, 50, 1.4)
    assert box == g.expand_focus((100, 120), 20, 39, 30, 69, 1.4) == (15, 43, 21, 77)  # int() truncation


def test_focus_crop_follows_the_changed_region_or_a_square_around_the_click():
    prev = np.zeros((100, 120))
    prev[20:40, 30:70] = 1.0
    coarse = np.full((100, 120), -5.0)
    coarse[20:40, 30:70] = 5.0
    coarse[40:70, 30:70] = 5.0  # a large new region below the old mask
    assert g.focus_crop(coarse, prev, (0, 100, 0, 120), 55, 50, 1.4) == g.expand_focus((100, 120), 40, 69, 30, 69, 1.4)
    small = coarse.copy()
    small[40:70, 30:70] = -5.0
    small[40:43, 50:54] = 5.0  # a thin change: a square of 0.2 x the object's extent around the click
    half = 0.2 * max(42 - 20, 69 - 30)
    expected = g.expand_focus((100, 120), 41 - half, 41 + half, 51 - half, 51 + half, 1.4)
    assert g.focus_crop(small, prev, (0, 100, 0, 120), 41, 51, 1.4) == expected
    tiny = small.copy()
    tiny[40:43, 50:54] = -5.0
    tiny[40, 50] = 5.0  # fewer than 10 changed pixels: the official helper falls back to the whole image
    assert g.focus_crop(tiny, prev, (0, 100, 0, 120), 40, 50, 1.4) == (0, 100, 0, 120)


def test_focus_crop_is_clamped_to_the_target_crop():
    coarse = np.full((100, 120), 5.0)
    box = g.focus_crop(coarse, np.zeros((100, 120)), (10, 60, 20, 90), 30, 50, 1.4)
    assert box == (10, 60, 20, 90)


def test_box_and_points_in_the_refiner_frame():
    assert g.box_in_crop((16, 80, 24, 104), (0, 96, 0, 128), 128) == pytest.approx(
        (16 * 128 / 96, 80 * 128 / 96, 24, 104))
    assert g.point_in_box(40, 60, (16, 80, 24, 104), 128) == (48.0, 57.6)
