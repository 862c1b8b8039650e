"""Small dashboard widgets, one job each."""
