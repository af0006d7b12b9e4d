"""A generated dataset: six noisy images, each with one bright disc."""

from functools import cached_property

import numpy as np

from iseg_bench.datasets import Dataset, Sample


class DiscsDataset(Dataset):
    name = "Discs"

    @property
    def ids(self) -> list[str]:
        return [f"disc-{i}" for i in range(6)]

    def load(self, index: int) -> Sample:
        rng = np.random.default_rng(index)
        image = rng.integers(0, 120, (96, 128, 3), dtype=np.uint8)
        yy, xx = np.mgrid[:96, :128]
        gt = ((yy - 48) ** 2 + (xx - 40 - 8 * index) ** 2 <= (14 + 2 * index) ** 2).astype(np.int32)
        image[gt == 1] += 120
        return Sample(self.ids[index], image, gt)

    @cached_property
    def fingerprint(self) -> str:
        return "discs-v1"
