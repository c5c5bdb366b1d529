"""Leave (请销假): request, approval by tier, cancel, extend, return, overstay."""
