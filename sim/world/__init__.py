"""The world a replication draws: random streams, pre-drawn draws, visit-outcome
probabilities, and the schema of the records the model emits."""
