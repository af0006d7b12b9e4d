"""Network building blocks shared by the RITM, FocalClick and EMC-Click re-implementations.

Module and parameter names follow the official networks exactly, so that their ``state_dict``
keys (and therefore the official checkpoints) match one to one.
"""
