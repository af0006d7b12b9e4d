"""EMC-Click (Du et al., CVPR 2023): the base network on the first click, mask correction afterwards."""
