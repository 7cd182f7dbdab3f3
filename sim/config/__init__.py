"""Configuration: the scenario (world and pay schemes), validated where it enters."""
