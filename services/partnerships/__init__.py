"""Partnership contracts between municipal partners and providers, their budgets and charges."""
