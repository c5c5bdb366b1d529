"""Tables of the leave domain."""
