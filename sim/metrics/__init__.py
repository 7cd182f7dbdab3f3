"""What is measured: the KPI catalogue, KPIs per replication, statistics."""
