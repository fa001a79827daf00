"""HTTP: the native API (routes/), later the seed profiles and the dashboard."""
