"""The tables service: regional partnership tables, their initiatives, participatory budgeting
and the impact report."""
