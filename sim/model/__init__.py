"""The SimPy model: one replication of one scheme, and of every scheme on one world."""
