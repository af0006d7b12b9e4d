"""FocalClick (Chen et al., CVPR 2022): a segmentor on a 256x256 target crop, a refiner on a focus crop."""
