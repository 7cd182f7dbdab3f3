"""How technicians decide: best response to a pay formula, learning, gaming, quitting."""
