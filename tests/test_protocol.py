"""The protocol object: presets, validation, hashing, files."""

from __future__ import annotations

import json

import pytest

from iseg_bench import presets
from iseg_bench.protocol import Protocol, ProtocolError, resolve_protocol


def test_defaults_follow_the_issue():
    p = Protocol()
    assert (p.clicker, p.max_clicks, p.iou_thresholds, p.prob_threshold) == ("robot", 20, (0.85, 0.9, 0.95), 0.5)
    assert p.stop_threshold == 0.95  # stops at the highest threshold, never the lowest


def test_published_presets():
    assert presets()["ritm"].prob_threshold == 0.49 and presets()["ritm"].flip_tta is True
    assert presets()["focalclick"].prob_threshold == 0.5 and presets()["focalclick"].flip_tta is False
    assert presets()["emc"].prob_threshold == 0.5 and presets()["emc"].flip_tta is True
    for name in ("ritm", "focalclick", "emc"):
        assert presets()[name].iou_thresholds == (0.8, 0.85, 0.9)
        assert presets()[name].stop_threshold == 0.9  # the published target IoU
    assert presets()["neutral-curves"].stop_threshold is None


def test_hash_ignores_name_and_follows_settings():
    a = Protocol(name="a")
    assert a.hash == Protocol(name="b", description="x").hash
    assert a.hash != Protocol(prob_threshold=0.49).hash
    # every preset is another protocol, except SAM's published one: SegNext's eval_sam settings (20 clicks,
    # no early stop, prob > 0.5, no flip) are exactly neutral-curves', so their records are shared
    assert presets()["sam"].hash == presets()["neutral-curves"].hash
    distinct = {name: p for name, p in presets().items() if name != "sam"}
    assert len({p.hash for p in distinct.values()}) == len(distinct)


def test_hash_is_stable_across_sessions():
    assert Protocol().hash == "7d7d42d43879"  # results stored by earlier versions stay addressable


def test_round_trip_through_json(tmp_path):
    p = presets()["ritm"]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(p.to_dict()))
    assert resolve_protocol(str(path)) == p


def test_file_without_name_takes_the_file_stem(tmp_path):
    path = tmp_path / "strict.json"
    path.write_text(json.dumps({"prob_threshold": 0.6}))
    p = resolve_protocol(path)
    assert p.name == "strict" and p.prob_threshold == 0.6


@pytest.mark.parametrize("changes, message", [
    ({"max_clicks": 0}, "max_clicks"),
    ({"iou_thresholds": (0.9, 0.85)}, "ascending"),
    ({"iou_thresholds": (0.5, 1.5)}, r"\(0, 1\]"),
    ({"prob_threshold": 1.0}, "prob_threshold"),
    ({"early_stop": "lowest"}, "early_stop"),
    ({"min_clicks": 30}, "min_clicks"),
])
def test_invalid_values_are_refused(changes, message):
    with pytest.raises(ProtocolError, match=message):
        Protocol(**changes)


def test_unknown_preset_suggests():
    with pytest.raises(ProtocolError, match="did you mean 'ritm'"):
        resolve_protocol("ritn")


def test_unknown_field_and_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"max_click": 5}')
    with pytest.raises(ProtocolError, match="unknown protocol field"):
        resolve_protocol(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ProtocolError, match="cannot read protocol file"):
        resolve_protocol(broken)
    with pytest.raises(ProtocolError, match="does not exist"):
        resolve_protocol(tmp_path / "missing.json")


def test_summary_names_every_setting():
    s = presets()["ritm"].summary()
    for part in ("ritm", "robot", "20 clicks", "0.8/0.85/0.9", "0.49", "flip TTA on", presets()["ritm"].hash):
        assert part in s
