"""The world a replication draws: random streams, pre-drawn draws, visit-outcome probabilities, record schema."""
