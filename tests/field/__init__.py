"""Tests of bot.field: places, travel, routes, the road, signatures, weather."""
