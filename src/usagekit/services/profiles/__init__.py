"""What the seed profiles need beyond the native services, still without HTTP or SQL."""
