"""Assignment and route optimisation for a field team's day: a pure-data model, a solver, a checker."""
