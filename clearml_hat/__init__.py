"""Shared logic of ClearML Hat: the scripts at the top level are thin commands over these modules."""
