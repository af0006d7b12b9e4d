"""Dataset loaders: layouts, exact decoding rules (../shared/reference/protocol.md §3, §8 cases 22-24), errors."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from layouts import noise_image, square_mask, write_paired, write_sbd, write_voc

from iseg_bench.datasets import DatasetError, SampleError, open_dataset
from iseg_bench.datasets.sample import decode_any_nonzero, decode_channel0_above_128, decode_grabcut
from iseg_bench.datasets.synthetic import SyntheticDataset, generate_scene


def test_grabcut_layout_pairs_by_stem_and_decodes_void(tmp_path):
    write_paired(tmp_path / "GrabCut", "data_GT", "boundary_GT",
                 {"b": (".bmp", ".bmp"), "a": (".jpg", ".bmp"), "c": (".JPG", ".bmp")})
    ds = open_dataset("GrabCut", data_root=tmp_path)  # the keyword the command line calls --data-root
    assert ds.ids == ["a", "b", "c"]
    s = ds.load(0)
    assert s.image.shape == (24, 32, 3) and s.gt.dtype == np.int32
    assert set(np.unique(s.gt)) == {-1, 0, 1}
    np.testing.assert_array_equal(s.gt == 1, square_mask(24, 32, void_band=True) == 255)


def test_grabcut_rule_raw_values():
    raw = np.array([[0, 1, 127, 128, 129, 255]], np.uint8)
    bgr = np.stack([raw, raw, raw], axis=-1)
    assert decode_grabcut(bgr).tolist() == [[0, 1, 0, -1, 1, 1]]  # raw 1 is object, as in the reference


def test_davis_and_coco_rules():
    bgr = np.zeros((1, 3, 3), np.uint8)
    bgr[0, 1] = (0, 0, 7)  # any non-zero channel
    bgr[0, 2] = (200, 0, 0)
    assert decode_any_nonzero(bgr).tolist() == [[0, 1, 1]]
    assert decode_channel0_above_128(bgr).tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("name, image_dir, mask_dir, object_px", [
    ("Berkeley", "images", "masks", 12 * 16),  # the 128 row is void
    ("DAVIS", "img", "gt", 12 * 16 + 32),  # any non-zero value is object, 128 included
    ("COCO_MVal", "img", "gt", 12 * 16)])  # 128 is not > 128: background
def test_paired_layouts(tmp_path, name, image_dir, mask_dir, object_px):
    write_paired(tmp_path / name, image_dir, mask_dir, {"x1": (".jpg", ".png"), "x2": (".jpg", ".png")})
    ds = open_dataset(name, tmp_path)
    assert ds.name == name and ds.ids == ["x1", "x2"]
    assert (ds.load(1).gt == 1).sum() == object_px


def test_voc_instances_are_grey_levels_in_ascending_order(tmp_path):
    ds = open_dataset(f"PascalVOC={write_voc(tmp_path / 'voc')}")
    assert ds.ids == ["2007_000001:15", "2007_000001:38", "2007_000001:75", "2007_000001:113"]
    first = ds.load(0)  # palette index 4 (grey 15) comes first
    assert (first.gt == 1).sum() == 16 and first.gt[10:14, 10:14].all()
    assert (first.gt[1] == -1).all()  # void (224, 224, 192) -> grey 220 -> -1


def test_sbd_instances_follow_val_txt_then_label(tmp_path):
    ds = open_dataset("SBD", write_sbd(tmp_path / "SBD").parent)
    assert ds.ids == ["2008_000002:1", "2008_000002:3", "2008_000003:2"]
    s = ds.load(1)
    assert s.gt[2:6, 2:6].all() and (s.gt == 1).sum() == 16 and not (s.gt == -1).any()
    again = open_dataset("SBD", tmp_path)  # index from the cache
    assert again.ids == ds.ids


def test_custom_layout_several_objects_per_image(tmp_path):
    root = tmp_path / "mine"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    cv2.imwrite(str(root / "images" / "cat.png"), noise_image(10, 10))
    m = np.zeros((10, 10), np.uint8)
    m[1:4, 1:4] = 255
    m[0, :] = 128
    cv2.imwrite(str(root / "masks" / "cat__1.png"), m)
    cv2.imwrite(str(root / "masks" / "cat__2.png"), np.where(m == 255, 0, 200).astype(np.uint8))
    ds = open_dataset(f"custom:{root}")
    assert ds.name == "mine" and ds.ids == ["cat__1", "cat__2"]
    gt = ds.load(0).gt
    assert (gt == 1).sum() == 9 and (gt[0] == -1).all()
    (root / "masks" / "dog.png").write_bytes((root / "masks" / "cat__1.png").read_bytes())
    with pytest.raises(DatasetError, match="has no image named dog"):
        open_dataset(f"custom:{root}")


def test_fingerprint_follows_content_not_location(tmp_path):
    a = write_paired(tmp_path / "a" / "Berkeley", "images", "masks", {"x": (".jpg", ".png")})
    b = tmp_path / "b" / "Berkeley"
    shutil.copytree(a, b)
    fa, fb = open_dataset("Berkeley", tmp_path / "a").fingerprint, open_dataset("Berkeley", tmp_path / "b").fingerprint
    assert fa == fb
    cv2.imwrite(str(b / "masks" / "x.png"), square_mask(24, 32, value=200))
    assert open_dataset("Berkeley", tmp_path / "b").fingerprint != fa


@pytest.mark.parametrize("damage, message", [
    ("missing_mask", "no mask named"),
    ("corrupt_image", "cannot decode image file"),
    ("size_mismatch", "mask is 16x12"),
    ("empty_object", "object mask is empty"),
    ("all_void", "void everywhere"),
])
def test_bad_samples_raise_sample_error_naming_the_problem(tmp_path, damage, message):
    root = write_paired(tmp_path / "Berkeley", "images", "masks", {"good": (".jpg", ".png"), "bad": (".jpg", ".png")})
    mask = root / "masks" / "bad.png"
    if damage == "missing_mask":
        mask.unlink()
    elif damage == "corrupt_image":
        (root / "images" / "bad.jpg").write_bytes(b"not an image at all")  # truncated files: their own test
    elif damage == "size_mismatch":
        cv2.imwrite(str(mask), square_mask(12, 16))
    elif damage == "empty_object":
        cv2.imwrite(str(mask), np.zeros((24, 32), np.uint8))
    elif damage == "all_void":
        cv2.imwrite(str(mask), np.full((24, 32), 128, np.uint8))
    ds = open_dataset("Berkeley", tmp_path)
    ds.load(ds.ids.index("good"))
    with pytest.raises(SampleError, match=message) as info:
        ds.load(ds.ids.index("bad"))
    assert "bad" in str(info.value)


@pytest.mark.parametrize("kind", ["gray", "rgba", "16bit"])
def test_unusual_image_formats_load_as_rgb_uint8(tmp_path, kind):
    root = write_paired(tmp_path / "Berkeley", "images", "masks", {"x": (".png", ".png")})
    path = root / "images" / "x.png"
    if kind == "gray":
        cv2.imwrite(str(path), np.full((24, 32), 77, np.uint8))
        expected = (77, 77, 77)
    elif kind == "rgba":
        img = np.zeros((24, 32, 4), np.uint8)
        img[..., 0], img[..., 1], img[..., 2], img[..., 3] = 10, 20, 30, 0  # BGRA
        cv2.imwrite(str(path), img)
        expected = (30, 20, 10)
    else:
        cv2.imwrite(str(path), np.full((24, 32, 3), 40000, np.uint16))
        expected = (156, 156, 156)  # 40000 / 256, OpenCV's 8-bit conversion
    image = open_dataset("Berkeley", tmp_path).load(0).image
    assert image.dtype == np.uint8 and image.shape == (24, 32, 3)
    assert tuple(image[0, 0]) == expected


def test_unknown_names_and_layouts(tmp_path):
    with pytest.raises(DatasetError, match="did you mean 'Berkeley'"):
        open_dataset("Berkley", tmp_path)
    with pytest.raises(DatasetError, match="needs a data root"):
        open_dataset("GrabCut")
    (tmp_path / "DAVIS" / "images").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"DAVIS/img is missing.*expected layout"):
        open_dataset("DAVIS", tmp_path)
    with pytest.raises(DatasetError, match="needs a path"):
        open_dataset("custom")


def test_data_root_from_environment(tmp_path, monkeypatch):
    write_paired(tmp_path / "DAVIS", "img", "gt", {"f": (".jpg", ".png")})
    monkeypatch.setenv("ISEG_BENCH_DATA", str(tmp_path))
    assert open_dataset("davis").ids == ["f"]


def test_synthetic_is_deterministic_and_varied():
    ds = open_dataset("Synthetic")
    assert len(ds) == 30 and ds.ids[0] == "synth-000"
    a, b = generate_scene(4), generate_scene(4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    shapes = {generate_scene(i)[2]["shape"] for i in range(6)}
    assert len(shapes) == 6
    assert any((ds.load(i).gt == -1).any() for i in range(len(ds)))  # some scenes have a void band
    assert ds.fingerprint == SyntheticDataset().fingerprint == "620eb54b38296d39"


def test_real_grabcut_and_berkeley(shared_datasets):
    grabcut = open_dataset("GrabCut", shared_datasets)
    berkeley = open_dataset("Berkeley", shared_datasets)
    assert len(grabcut) == 50 and len(berkeley) == 100
    # the copies reports/classical was made on (a different copy gives other NoC: re-run it)
    assert (grabcut.fingerprint, berkeley.fingerprint) == ("f54a3dd2a64b5e46", "d21c2008f629b6b7")
    assert "189011a" in berkeley.ids and "189011b" in berkeley.ids
    with_void = 0
    for ds in (grabcut, berkeley):
        for i in range(len(ds)):
            s = ds.load(i)
            assert set(np.unique(s.gt)) <= {-1, 0, 1} and (s.gt == 1).any()
            with_void += bool((s.gt == -1).any())
    assert with_void >= 40  # GrabCut's 128-valued boundary band is void
    llama = grabcut.load(grabcut.ids.index("llama"))
    assert llama.shape == (371, 513)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_truncated_image_is_a_data_error_naming_the_file(tmp_path, suffix):
    import cv2

    from iseg_bench.datasets import SampleError
    from iseg_bench.datasets.sample import read_image

    path = tmp_path / f"cut{suffix}"
    ok, data = cv2.imencode(suffix, noise_image(64, 80))
    assert ok
    path.write_bytes(data.tobytes()[: len(data) // 2])
    with pytest.raises(SampleError, match=f"{path}.* is truncated"):
        read_image(path)
    path.write_bytes(data.tobytes())  # the whole file reads
    assert read_image(path).shape == (64, 80, 3)
