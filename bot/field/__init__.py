"""Work at the customer's place: places and travel, route optimisation, ETAs, weather and signatures."""
