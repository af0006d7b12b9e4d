"""The robot's building blocks on inputs that tell each rule apart: the distance transform of any 0/1
mask dtype, and the exact peak's first maximum when a nearly equal value comes first (what the
mutation run of iseg_bench/clicker.py found untested: reports/mutation/mutation.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from iseg_bench.clicker import Click, RobotClicker, distance_to_background, exact_peak


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_the_distance_transform_reads_any_zero_one_mask_as_the_boolean_one(dtype):
    mask = np.zeros((7, 9), bool)
    mask[1:6, 2:8] = True
    mask[3, 4] = False
    want = distance_to_background(mask)
    got = distance_to_background(mask.astype(dtype))
    assert got.shape == mask.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    # brute force: distance to the nearest False pixel of the mask padded by one False pixel (the border)
    padded = np.pad(mask, 1)
    zeros = np.argwhere(~padded) - 1
    for (y, x), value in np.ndenumerate(want):
        assert value == np.float32(np.sqrt(((zeros - (y, x)) ** 2).sum(axis=1).min()) if mask[y, x] else 0.0)


def test_the_exact_peak_is_the_first_exact_maximum_not_the_first_near_one():
    """A value within the snapping band (1e-5 relative) but below the maximum comes first in row-major order:
    the peak is the later, true maximum."""
    dist = np.zeros((3, 4), np.float32)
    dist[0, 1] = np.float32(np.sqrt(999_999.0))  # 999.9995: near the top, not the top
    dist[1, 2] = np.float32(1000.0)
    dist[2, 3] = np.float32(1000.0)  # a tie with the maximum: the first in row-major order wins
    best, at = exact_peak(dist)
    assert (float(best), at) == (1000.0, 6)
    assert exact_peak(np.zeros((2, 2), np.float32)) == (0.0, 0)


@pytest.mark.parametrize("shape", [(5,), (4, 5, 3), (1, 4, 5)])
def test_a_ground_truth_that_is_not_a_2d_label_map_is_refused(shape):
    with pytest.raises(ValueError, match="2-D label map"):
        RobotClicker(np.zeros(shape, np.int32))


def test_the_robot_states_its_frame_and_its_errors_cannot_be_changed_after_the_fact():
    """``errors`` feeds both the IoU and the next click: a value object, frozen, so that neither can change
    what the other reads."""
    gt = np.zeros((6, 8), np.int32)
    gt[1:4, 2:6] = 1
    robot = RobotClicker(gt)
    assert robot.shape == (6, 8) and robot.object_pixels == 12
    errors = robot.errors(np.zeros((6, 8), bool))
    assert (errors.row0, errors.col0, errors.missed, errors.extra) == (1, 2, 12, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        errors.missed = 0  # type: ignore[misc]


@pytest.mark.parametrize("shape", [(1, 8), (6, 1), (5, 8), (7, 8)])
def test_a_prediction_of_another_shape_is_refused_even_where_numpy_would_broadcast_it(shape):
    gt = np.zeros((6, 8), np.int32)
    gt[1:4, 2:6] = 1
    with pytest.raises(ValueError, match=r"prediction shape .* does not match ground truth \(6, 8\)"):
        RobotClicker(gt).next_click(np.ones(shape, bool))


def test_a_click_is_an_immutable_value():
    """Clicks are compared and collected as values (the same clicks, click by click, across implementations)."""
    a, b = Click(3, 4, True, 0), Click(3, 4, True, 0)
    assert a == b and len({a, b, Click(3, 4, False, 0)}) == 2 and a.coords == (3, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.y = 5  # type: ignore[misc]


def test_a_perfect_prediction_has_an_empty_error_box_at_the_origin_and_the_reference_click():
    """No error: no box (0 x 0 maps at row 0, column 0, no pixel counted) and the reference's (0, 0) negative."""
    gt = np.zeros((6, 8), np.int32)
    gt[1:4, 2:6] = 1
    gt[5, 7] = -1  # void is never an error
    robot = RobotClicker(gt)
    pred = gt == 1
    pred[5, 7] = True
    errors = robot.errors(pred)
    assert (errors.row0, errors.col0, errors.missed, errors.extra) == (0, 0, 0, 0)
    assert errors.fn.shape == errors.fp.shape == (0, 0)
    assert robot.click_for(errors) == Click(0, 0, False, 0)


def test_the_robots_target_is_an_immutable_value():
    """The target (and the distance map it was read from) feeds the seeded strategies: frozen, like the errors."""
    gt = np.zeros((6, 8), np.int32)
    gt[1:4, 2:6] = 1
    robot = RobotClicker(gt)
    target = robot._target(robot.errors(np.zeros((6, 8), bool)))
    assert target is not None and target.positive and target.radius == 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.radius = 0.0  # type: ignore[misc]
