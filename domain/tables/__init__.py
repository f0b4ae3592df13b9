"""Regional partnership tables: the table and its members, meetings, fees and events
(``table``), the initiatives residents, members and the city raise (``initiative``), and
participatory budgeting's rounds (``round``) with their rules and tally (``budgeting``)."""
