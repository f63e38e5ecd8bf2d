"""The loop: the refit campaign and the main job."""
