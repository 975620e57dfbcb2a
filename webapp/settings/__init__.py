"""Producer settings: own provider keys, usage this month and hourly allowances."""
