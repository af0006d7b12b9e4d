"""The protocol's validation at each boundary, its strategy changes and its one-line summary, value by
value (what the mutation run of iseg_bench/protocol.py found untested: reports/mutation/mutation.md)."""

from __future__ import annotations

import pytest

from iseg_bench.protocol import (
    PRESETS,
    Protocol,
    ProtocolError,
    register_preset,
    resolve_protocol,
    unregister_preset,
)


@pytest.mark.parametrize("changes", [
    {"max_clicks": 1, "min_clicks": 1},  # one click is a protocol
    {"max_clicks": 5, "min_clicks": 5},  # the loop may be forced to run every click
    {"iou_thresholds": (0.9,)},  # one threshold is enough
    {"iou_thresholds": (0.5, 1.0)},  # 1.0 is a threshold (a perfect mask)
    {"prob_threshold": 0.0},  # any positive probability is foreground
    {"input_size": 16},  # the smallest input size
    {"clicker": "distance", "click_exponent": 0.0},  # exponent 0: uniform over the region
    {"clicker": "jitter", "click_spread": 1e-3},
])
def test_the_boundaries_of_every_range_are_accepted(changes):
    p = Protocol(**changes)
    for key, value in changes.items():
        assert getattr(p, key) == (tuple(value) if key == "iou_thresholds" else value)


@pytest.mark.parametrize("changes, message", [
    ({"max_clicks": 0, "min_clicks": 0}, "max_clicks must be a positive integer"),
    ({"max_clicks": 1}, None),  # accepted: the control case for the two lines below
    ({"min_clicks": 0}, r"min_clicks must be in \[1, max_clicks=20\], got 0"),
    ({"min_clicks": 21}, r"min_clicks must be in \[1, max_clicks=20\], got 21"),
    ({"min_clicks": -1}, "min_clicks must be in"),
    ({"iou_thresholds": ()}, "at least one threshold"),
    ({"iou_thresholds": (0.0, 0.5)}, r"must lie in \(0, 1\]"),
    ({"iou_thresholds": (-0.5, 0.5)}, r"must lie in \(0, 1\]"),
    ({"iou_thresholds": (0.5, 0.5)}, "ascending and distinct"),
    ({"iou_thresholds": (0.5, 0.5, 0.9)}, "ascending and distinct"),  # a repeat that still sorts before the set
    ({"iou_thresholds": (0.5, 0.9, 0.8)}, "ascending and distinct"),
    ({"iou_thresholds": (0.8, 0.5, 0.9)}, "ascending and distinct"),
    ({"prob_threshold": -0.1}, r"prob_threshold must lie in \[0, 1\)"),
    ({"input_size": 15}, "input_size must be null or an integer >= 16"),
    ({"input_size": 16.0}, "input_size must be null or an integer >= 16"),
    ({"name": ""}, "name and clicker must be non-empty strings"),
    ({"clicker": "jitter", "click_spread": 0.0}, "click_spread must be positive"),
    ({"clicker": "jitter", "click_spread": -0.5}, "click_spread must be positive"),
    ({"clicker": "distance", "click_exponent": -0.5}, "click_exponent must be >= 0"),
    ({"untrained_control": "gt"}, "untrained_control must be one of"),
    ({"flip_tta": "yes"}, "flip_tta must be"),
])
def test_each_check_refuses_just_past_its_boundary_with_its_own_message(changes, message):
    if message is None:
        Protocol(**changes)
        return
    with pytest.raises(ProtocolError, match=message):
        Protocol(**changes)


def test_an_unused_parameter_is_named_and_the_message_agrees_in_number():
    with pytest.raises(ProtocolError, match=r"does not use click_spread: leave it at the default"):
        Protocol(click_spread=0.5)
    with pytest.raises(ProtocolError, match=r"does not use click_spread, click_exponent: leave them at the default"):
        Protocol(click_spread=0.5, click_exponent=2.0)


def test_with_clicker_renames_only_on_a_new_strategy():
    p = Protocol()
    assert p.with_clicker() is p and p.with_clicker("robot") is p  # nothing changes: the same protocol
    for name in ("uniform", "boundary", "distance", "jitter"):  # before and after "robot" alphabetically
        q = p.with_clicker(name)
        assert (q.clicker, q.name) == (name, f"neutral-{name}")
    jitter = Protocol(name="j", clicker="jitter", click_spread=0.5)
    assert jitter.with_clicker("jitter") is jitter  # the same strategy keeps its parameters and its name
    assert jitter.with_clicker("jitter", spread=0.75).click_spread == 0.75
    back = jitter.with_clicker("robot")
    assert (back.clicker, back.click_spread, back.name) == ("robot", 0.25, "j-robot")  # defaults restored


def test_summary_states_the_stop_the_size_and_the_steering():
    assert "stop at IoU>=0.95" in Protocol().summary()  # the highest threshold, not the second
    assert "stop at IoU>=0.9," in Protocol(iou_thresholds=(0.5, 0.8, 0.9)).summary()
    never = Protocol(early_stop="never").summary()
    assert "no early stop" in never and "stop at" not in never
    assert "input size: method default" in Protocol().summary()
    assert "input size 96px" in Protocol(input_size=96).summary()
    assert "steered" not in Protocol().summary()
    assert "untrained networks steered by gt-degraded masks" in Protocol(untrained_control="gt-degraded").summary()
    assert "flip: method default" in Protocol(flip_tta=None).summary()
    assert "flip TTA off" in Protocol().summary()


def test_a_registered_preset_can_be_unregistered_but_a_shared_one_cannot():
    mine = Protocol(name="mutation-preset", max_clicks=7)
    register_preset(mine)
    try:
        assert resolve_protocol("mutation-preset") is mine
        with pytest.raises(ValueError, match="registered twice"):
            register_preset(mine)
    finally:
        unregister_preset("mutation-preset")
    assert "mutation-preset" not in PRESETS
    for shared in ("neutral", "neutral-curves"):
        with pytest.raises(ValueError, match="is a shared preset"):
            unregister_preset(shared)
        assert shared in PRESETS


def test_a_protocol_is_immutable_and_hashable():
    """It keys results and dictionaries: a protocol that could change after its hash was taken would file
    records under settings they were not run with."""
    import dataclasses

    p = Protocol()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.max_clicks = 5  # type: ignore[misc]
    assert {p: "neutral"}[Protocol()] == "neutral"  # equal protocols are one key


def test_a_name_that_is_neither_a_preset_nor_a_json_file_is_an_unknown_protocol(tmp_path):
    """Only a .json path (or an existing file) is read as a protocol file: a missing ``.yaml`` or ``.txt``
    name is an unknown protocol, with the presets listed, not a missing file."""
    for name in ("strict.yaml", "strict.txt", "zzz.yaml"):
        with pytest.raises(ProtocolError, match=rf"unknown protocol '{name}'.*presets: neutral"):
            resolve_protocol(str(tmp_path / name).replace(str(tmp_path) + "/", ""))
    with pytest.raises(ProtocolError, match="does not exist"):
        resolve_protocol(tmp_path / "strict.json")


def test_the_click_parameters_default_to_the_documented_values_and_count_when_set_either_way():
    """click_spread 0.25 and click_exponent 1 (RClicks' DT baseline) are the defaults; a value set below or
    above its default is refused by a strategy that does not read it and changes the hash of one that does."""
    assert (Protocol().click_spread, Protocol().click_exponent) == (0.25, 1.0)
    for spread in (0.1, 0.5):
        with pytest.raises(ProtocolError, match="does not use click_spread"):
            Protocol(click_spread=spread)
        assert Protocol(clicker="jitter", click_spread=spread).hash != Protocol(clicker="jitter").hash
    for exponent in (0.5, 2.0):
        assert Protocol(clicker="distance", click_exponent=exponent).hash != Protocol(clicker="distance").hash
    assert Protocol(untrained_control="gt-degraded").hash != Protocol().hash


def test_a_probability_threshold_of_one_or_more_is_refused():
    for value in (1.0, 1.5):
        with pytest.raises(ProtocolError, match=r"prob_threshold must lie in \[0, 1\)"):
            Protocol(prob_threshold=value)
