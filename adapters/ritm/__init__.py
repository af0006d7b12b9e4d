"""RITM (Sofiiuk et al., ICIP 2022): HRNet iterative-mask models with zoom-in and flip averaging."""
